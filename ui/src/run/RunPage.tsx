// /runs/$runId: the run view. The header (pipeline, status, times, params, actions), the DAG
// coloured by live status, and the chosen task's attempts, outputs and log; all kept live by
// the run's event stream, without a reload.
import { Link, useParams } from "@tanstack/react-router";
import { useState } from "react";

import { useEvents } from "../api/events";
import { useRun, useRunArtifacts, useRunSpec } from "../api/runs";
import { RunAlerts } from "./RunAlerts";
import { RunGraph } from "./RunGraph";
import { RunHeader } from "./RunHeader";
import { TaskList } from "./TaskList";
import { TaskPanel } from "./TaskPanel";
import "./run.css";

export function RunPage() {
  const { runId = "" } = useParams({ strict: false });
  useEvents({ run: runId });
  const run = useRun(runId);
  const spec = useRunSpec(run.data?.pipeline, run.data ? run.data.pipeline_version : undefined);
  const artifacts = useRunArtifacts(runId);
  const [selected, setSelected] = useState<string | null>(null);

  if (run.isPending) return <p className="muted">Loading run {runId}…</p>;
  if (run.isError) {
    return (
      <div className="error-box" role="alert">
        {run.error.message} — <Link to="/runs">back to the runs</Link>
      </div>
    );
  }
  const detail = run.data;
  const task = selected ? detail.tasks[selected] : undefined;
  return (
    <div className="run-page">
      <RunHeader run={detail} />
      {spec.isError && <p className="error">graph edges: {spec.error.message}</p>}
      <div className="run-body">
        <RunGraph run={detail} spec={spec.data} selected={selected} onSelect={setSelected} />
        {selected && task ? (
          <TaskPanel
            runId={detail.run_id}
            name={selected}
            task={task}
            artifacts={(artifacts.data ?? []).filter((a) => a.task === selected)}
            onClose={() => setSelected(null)}
          />
        ) : (
          <aside className="run-side">
            <p className="hint">Click a task to see its attempts, outputs and log.</p>
            <TaskList tasks={detail.tasks} onSelect={setSelected} />
            <RunAlerts runId={detail.run_id} />
          </aside>
        )}
      </div>
    </div>
  );
}
