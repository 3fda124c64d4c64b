// The live status of each task of a run: read from the run's detail, then kept current by
// the run's event stream (events.ts patches the cached detail). Used by the run view and by
// the editor's canvas (the pipeline's latest run).
import { useMemo } from "react";

import { useEvents } from "../api/events";
import { useRun } from "../api/runs";

/** Task name → status ("pending", "running", "succeeded", …); empty until the run is read. */
export function useRunStatus(runId: string | undefined): Record<string, string> {
  const run = useRun(runId);
  useEvents(runId ? { run: runId } : null);
  const tasks = run.data?.tasks;
  return useMemo(() => {
    const status: Record<string, string> = {};
    for (const [name, task] of Object.entries(tasks ?? {})) status[name] = task.status;
    return status;
  }, [tasks]);
}
