// Stop, Retry and Rerun from a task: requests the engine acts on; a refusal shows inline.
import { useState } from "react";

import { useRerunRun, useRetryRun, useStopRun, type RunDetail } from "../api/runs";
import { RUN_ENDED } from "./format";

export function RunActions({ run }: { run: RunDetail }) {
  const stop = useStopRun(run.run_id);
  const retry = useRetryRun(run.run_id);
  const rerun = useRerunRun(run.run_id);
  const names = Object.keys(run.tasks);
  const [from, setFrom] = useState("");
  const ended = RUN_ENDED.has(run.status);
  const failed = run.status === "failed" || run.status === "stopped";
  const busy = stop.isPending || retry.isPending || rerun.isPending;
  const error = stop.error ?? retry.error ?? rerun.error;
  const reset = () => {
    stop.reset();
    retry.reset();
    rerun.reset();
  };

  return (
    <div className="run-actions">
      <div className="row">
        <button
          type="button"
          className="danger"
          disabled={ended || busy || run.stop_requested === true}
          onClick={() => {
            reset();
            stop.mutate();
          }}
        >
          Stop
        </button>
        <button
          type="button"
          disabled={!failed || busy}
          title="Run the failed and stopped tasks again, keeping what succeeded"
          onClick={() => {
            reset();
            retry.mutate();
          }}
        >
          Retry
        </button>
        <select
          aria-label="rerun from task"
          value={from}
          onChange={(e) => setFrom(e.target.value)}
          disabled={!ended}
        >
          <option value="">rerun from…</option>
          {names.map((name) => (
            <option key={name} value={name}>
              {name}
            </option>
          ))}
        </select>
        <button
          type="button"
          disabled={!ended || !from || busy}
          title="Run this task and everything downstream of it again"
          onClick={() => {
            reset();
            rerun.mutate(from);
          }}
        >
          Rerun
        </button>
      </div>
      {error && (
        <p className="error" role="alert">
          {error.message}
        </p>
      )}
    </div>
  );
}
