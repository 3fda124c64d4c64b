// One task of a run, beside the graph: why it waits (admission's reason, e.g. "queued: needs
// 4 gpu, ..."), its attempts (status, exit code, times, where it ran), a distributed task's
// workers, its outputs (values, and artifacts to download) and its log.
import { useState } from "react";

import { saveDownload } from "../api/logs";
import type { ArtifactInfo, AttemptDetail, TaskDetail } from "../api/runs";
import { Status } from "../components/Status";
import { formatDuration, formatTime, secondsBetween, useNow } from "./format";
import { LogPanel } from "./LogPanel";
import { ResourceCharts } from "./ResourceCharts";
import { formatBytes } from "./units";
import { WorkersPanel } from "./WorkersPanel";

export interface TaskPanelProps {
  runId: string;
  name: string;
  task: TaskDetail;
  artifacts: ArtifactInfo[];
  onClose: () => void;
}

export function TaskPanel({ runId, name, task, artifacts, onClose }: TaskPanelProps) {
  const ended = !["pending", "queued", "running"].includes(task.status);
  return (
    <aside className="task-panel card" aria-label={`task ${name}`} data-testid="task-panel">
      <div className="row">
        <h2 className="task-title">{name}</h2>
        <Status status={task.status} />
        <span className="spacer" />
        <button type="button" className="ghost" onClick={onClose} aria-label="close the task">
          ✕
        </button>
      </div>
      <TaskMessage status={task.status} message={task.message} />
      <AttemptTable attempts={task.attempt_list ?? []} />
      <WorkersPanel runId={runId} task={name} />
      <Outputs outputs={task.outputs ?? {}} artifacts={artifacts} />
      <ResourceCharts runId={runId} task={name} attempt={task.attempts} />
      <h3>Log</h3>
      <LogPanel
        key={`${runId}/${name}/${task.attempts}`}
        runId={runId}
        task={name}
        follow={!ended}
      />
    </aside>
  );
}

/** A waiting task's reason stands out (it is why nothing happens); other messages are hints. */
function TaskMessage({ status, message }: { status: string; message: string | null }) {
  if (!message) return null;
  if (status === "queued" || message.startsWith("queued:")) {
    return (
      <p className="waiting-reason" role="status" data-testid="task-waiting">
        <strong>{message.startsWith("queued:") ? "Waiting for resources" : "Waiting"}</strong>
        <span>{message}</span>
      </p>
    );
  }
  return <p className="hint">{message}</p>;
}

function AttemptTable({ attempts }: { attempts: AttemptDetail[] }) {
  const now = useNow(attempts.some((a) => a.status === "running"));
  if (attempts.length === 0) return <p className="hint">No attempt yet.</p>;
  return (
    <table className="list compact" data-testid="attempts">
      <thead>
        <tr>
          <th>#</th>
          <th>Status</th>
          <th>Exit</th>
          <th>Started</th>
          <th>Duration</th>
          <th>Where</th>
        </tr>
      </thead>
      <tbody>
        {attempts.map((a) => (
          <tr key={a.number}>
            <td>{a.number}</td>
            <td>
              <Status status={a.status} />
            </td>
            <td className="mono">{a.exit_code ?? "—"}</td>
            <td>{formatTime(a.started_at)}</td>
            <td>{formatDuration(secondsBetween(a.started_at, a.finished_at, now))}</td>
            <td className="muted">
              {[a.host ?? a.engine_id, a.pid ? `pid ${a.pid}` : null].filter(Boolean).join(" · ") ||
                "—"}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Outputs({
  outputs,
  artifacts,
}: {
  outputs: Record<string, string>;
  artifacts: ArtifactInfo[];
}) {
  const [error, setError] = useState<string | null>(null);
  const values = Object.entries(outputs);
  if (values.length === 0 && artifacts.length === 0) return null;
  const download = (a: ArtifactInfo) => {
    setError(null);
    const name = a.kind === "folder" ? `${a.name}.tar` : a.name;
    saveDownload(`/api/v1${a.download}`, name).catch((err: Error) =>
      setError(`${a.name}: ${err.message}`),
    );
  };
  return (
    <section className="outputs" data-testid="outputs">
      <h3>Outputs</h3>
      {values.length > 0 && (
        <dl className="kv">
          {values.map(([key, value]) => (
            <div key={key} data-testid={`output-${key}`}>
              <dt>{key}</dt>
              <dd className="mono">{value}</dd>
            </div>
          ))}
        </dl>
      )}
      {artifacts.length > 0 && (
        <ul className="artifacts">
          {artifacts.map((a) => (
            <li key={`${a.attempt}/${a.name}`}>
              <button type="button" className="link" onClick={() => download(a)}>
                {a.name}
                {a.kind === "folder" ? "/" : ""}
              </button>
              <span className="hint">
                {formatBytes(a.size)} · attempt {a.attempt}
              </span>
            </li>
          ))}
        </ul>
      )}
      {error && <p className="error">{error}</p>}
    </section>
  );
}
