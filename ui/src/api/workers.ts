// A distributed task's workers (src/cubestudio/api/routes/workers.py): each member of the
// latest attempt's gang with its role, rank, ports, GPUs and state. A task that is not
// distributed (most of them) answers 404: that is `null` here, not an error. The query reads
// again when the task's status or attempt changes, and every few seconds while it is active.
import { useQuery } from "@tanstack/react-query";

import { runsTaskWorkers } from "../client/sdk.gen";
import type { Worker, Workers } from "../client/types.gen";
import { useSession } from "../auth/session";
import { ApiError, unwrap } from "./http";
import { keys } from "./keys";
import { useRun } from "./runs";

export type { Worker, Workers };

export const WORKERS_EVERY_MS = 3_000;
/** A task that answered 404 while active is asked again this seldom: its gang may not have
 * written its status yet, but most such tasks are simply not distributed. */
const NOT_DISTRIBUTED_EVERY_MS = 10_000;
const TASK_ENDED = new Set(["succeeded", "failed", "stopped", "skipped", "upstream_failed"]);

export function workersKey(project: string, runId: string, task: string) {
  return [...keys.run(project, runId), "workers", task] as const;
}

/** The gang of the task's latest attempt; `data` is null for a task without one. */
export function useTaskWorkers(runId: string, task: string) {
  const project = useSession((s) => s.project);
  const run = useRun(runId);
  const detail = run.data?.tasks[task];
  const attempts = detail?.attempts ?? 0;
  const status = detail?.status;
  const active = status !== undefined && !TASK_ENDED.has(status);
  return useQuery({
    // The status and attempt in the key: each change reads the gang again at once.
    queryKey: [...workersKey(project, runId, task), { attempts, status }],
    queryFn: async (): Promise<Workers | null> => {
      try {
        const path = { project, run_id: runId, task };
        return await unwrap(runsTaskWorkers({ path, query: { series: true } }));
      } catch (err) {
        if (err instanceof ApiError && err.status === 404) return null;
        throw err;
      }
    },
    enabled: Boolean(runId) && attempts > 0,
    refetchInterval: (query) => {
      if (!active) return false;
      return query.state.data === null ? NOT_DISTRIBUTED_EVERY_MS : WORKERS_EVERY_MS;
    },
    // Keep the last gang on screen while the next key loads (the same task only).
    placeholderData: (previous, previousQuery) =>
      previousQuery?.queryKey[4] === task ? previous : undefined,
  });
}
