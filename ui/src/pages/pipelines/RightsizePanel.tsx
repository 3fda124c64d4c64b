// The right-size panel under a pipeline's row: for each task its cpu and memory requests now,
// the ones suggested from the peaks of its last succeeded runs, and those peaks (the
// evidence, run by run); "Apply" saves the suggestions as the pipeline's next version.
import { Link } from "@tanstack/react-router";

import {
  useApplyRightsize,
  useRightsizePreview,
  type Evidence,
  type TaskAdviceOut,
} from "../../api/metrics";
import { useCanEdit } from "../../api/pipelineList";
import { formatBytes, formatCores, formatPercent } from "../../run/units";
import "./rightsize.css";

export function RightsizePanel({ name, onDone }: { name: string; onDone: () => void }) {
  const preview = useRightsizePreview(name);
  const apply = useApplyRightsize(name);
  const canEdit = useCanEdit();
  const advice = preview.data;
  const changed = advice?.tasks.some((t) => t.changed) ?? false;
  return (
    <div className="rightsize" role="region" aria-label={`Right-size ${name}`} data-testid="rightsize-panel">
      <div className="row wrap">
        <strong>Right-size {name}</strong>
        {advice && (
          <span className="hint">
            v{advice.version} · from the peaks of each task&apos;s last {advice.runs} succeeded
            runs · policy {advice.policy}
          </span>
        )}
        <span className="spacer" />
        {advice && !changed && !apply.data && (
          <span className="hint">Nothing to change: every request is as suggested.</span>
        )}
        {canEdit ? (
          <button
            type="button"
            className="primary"
            onClick={() => apply.mutate()}
            disabled={!changed || apply.isPending}
            title={changed ? undefined : "every request already matches its suggestion"}
            data-testid="rightsize-apply"
          >
            {apply.isPending ? "Applying…" : "Apply"}
          </button>
        ) : (
          <span className="hint">Applying needs the developer role in this project.</span>
        )}
        <button type="button" className="ghost" onClick={onDone}>
          Close
        </button>
      </div>
      {apply.data && (
        <p className="rightsize-result" role="status" data-testid="rightsize-result">
          {apply.data.applied_version != null
            ? `Saved as version ${apply.data.applied_version}.`
            : "Nothing to change: the requests already match the suggestions."}
        </p>
      )}
      {apply.error && (
        <p className="error" role="alert">
          Apply: {apply.error.message}
        </p>
      )}
      {preview.isPending && <p className="hint">Reading the last runs…</p>}
      {preview.error && (
        <p className="error" role="alert">
          Right-size {name}: {preview.error.message}
        </p>
      )}
      {advice && <AdviceTable tasks={advice.tasks} />}
    </div>
  );
}

function AdviceTable({ tasks }: { tasks: TaskAdviceOut[] }) {
  if (tasks.length === 0) return <p className="hint">This pipeline has no task.</p>;
  return (
    <table className="list compact rightsize-table">
      <thead>
        <tr>
          <th>Task</th>
          <th>CPU request</th>
          <th>Memory request</th>
          <th>Evidence: peak CPU · memory, per run</th>
        </tr>
      </thead>
      <tbody>
        {tasks.map((t) => (
          <tr key={t.task} data-testid={`rightsize-task-${t.task}`}>
            <td className="strong">{t.task}</td>
            <td className="nowrap">
              <Change now={t.current.cpu} next={t.suggested.cpu} show={formatCores} />
            </td>
            <td className="nowrap">
              <Change now={t.current.memory} next={t.suggested.memory} show={formatBytes} />
            </td>
            <td>
              <EvidenceList evidence={t.evidence} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Change({
  now,
  next,
  show,
}: {
  now: number | null;
  next: number | null;
  show: (value: number) => string;
}) {
  const current = now === null ? "none" : show(now);
  if (next === null) return <span className="muted">{current}</span>;
  if (next === now) return <span title="already as suggested">{current} ✓</span>;
  return (
    <span>
      <span className="muted">{current}</span> →{" "}
      <strong className="suggested">{show(next)}</strong>
    </span>
  );
}

function EvidenceList({ evidence }: { evidence: Evidence[] }) {
  if (evidence.length === 0) return <span className="muted">no succeeded run yet</span>;
  return (
    <ul className="evidence">
      {evidence.map((e) => (
        <li key={`${e.run_id}/${e.attempt}`}>
          <Link to="/runs/$runId" params={{ runId: e.run_id }} className="mono">
            {e.run_id}
          </Link>{" "}
          {formatPercent(e.cpu_max_percent)} · {formatBytes(e.rss_max_bytes)}
          {e.gpu_mem_max_bytes != null && ` · GPU ${formatBytes(e.gpu_mem_max_bytes)}`}
        </li>
      ))}
    </ul>
  );
}
