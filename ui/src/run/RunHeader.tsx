// The top of the run view: which pipeline (a link to its editor) and version, the run's id,
// status, trigger, times and duration, its parameters, and the actions on it.
import { Link } from "@tanstack/react-router";

import type { RunDetail } from "../api/runs";
import { Status } from "../components/Status";
import { formatDuration, formatTime, RUN_ENDED, secondsBetween, useNow } from "./format";
import { RunActions } from "./RunActions";

export function RunHeader({ run }: { run: RunDetail }) {
  const now = useNow(!RUN_ENDED.has(run.status));
  const params = Object.entries(run.params ?? {});
  return (
    <header className="run-header card" data-testid="run-header">
      <div className="row wrap">
        <h1 className="run-title">
          <Link to="/pipelines/$name" params={{ name: run.pipeline }}>
            {run.pipeline}
          </Link>
          <span className="muted mono run-id">{run.run_id}</span>
        </h1>
        <span data-testid="run-status">
          <Status status={run.status} />
        </span>
        {run.stop_requested && !RUN_ENDED.has(run.status) && (
          <span className="badge">stopping…</span>
        )}
        <span className="spacer" />
        <RunActions run={run} />
      </div>
      <dl className="run-facts">
        <Fact term="Trigger" value={run.trigger} />
        <Fact term="Version" value={run.pipeline_version ? `v${run.pipeline_version}` : "—"} />
        <Fact term="Created" value={formatTime(run.created_at)} />
        <Fact term="Started" value={formatTime(run.started_at)} />
        <Fact term="Finished" value={formatTime(run.finished_at)} />
        <Fact
          term="Duration"
          value={formatDuration(secondsBetween(run.started_at, run.finished_at, now))}
        />
        {params.length > 0 && (
          <Fact
            term="Params"
            value={params.map(([k, v]) => `${k}=${JSON.stringify(v)}`).join("  ")}
            mono
          />
        )}
      </dl>
      {run.message && <p className="hint run-message">{run.message}</p>}
    </header>
  );
}

function Fact({ term, value, mono }: { term: string; value: string; mono?: boolean }) {
  return (
    <div>
      <dt>{term}</dt>
      <dd className={mono ? "mono" : undefined} title={value}>
        {value}
      </dd>
    </div>
  );
}
