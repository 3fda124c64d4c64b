// Runs: the list (filters, cursor pages), one run with its tasks and attempts (the server's
// engine/details.py shape, typed here as the route has no response model), its artifacts and
// alert deliveries, the pipeline version it ran (for its graph), and stop / retry / rerun.
// Live events are folded into these caches by liveRuns.ts (re-exported here).
import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";

import {
  alertsListRunAlerts,
  artifactsListArtifacts,
  pipelinesGetPipeline,
  pipelinesGetVersion,
  runsGetRun,
  runsListRuns,
  runsRerunRun,
  runsRetryRun,
  runsStopRun,
} from "../client/sdk.gen";
import type { AlertDeliveryOut, RunPage, RunRow, RunsListRunsData } from "../client/types.gen";
import { useSession } from "../auth/session";
import type { PipelineJson } from "../editor/types";
import { unwrap } from "./http";
import { keys } from "./keys";
import { refreshRunCaches } from "./liveRuns";

export type { AlertDeliveryOut, RunPage, RunRow };
export { applyEvent, applyEvents, patchRunCaches, refreshRunCaches } from "./liveRuns";

export interface AttemptDetail {
  number: number;
  status: string;
  exit_code: number | null;
  started_at: string | null;
  finished_at: string | null;
  message: string | null;
  engine_id?: string | null;
  host?: string | null;
  pid?: number | null;
}

export interface TaskDetail {
  status: string;
  attempts: number;
  exit_code: number | null;
  started_at: string | null;
  finished_at: string | null;
  message: string | null;
  /** Value outputs, masked with the run's secrets. */
  outputs: Record<string, string>;
  attempt_list: AttemptDetail[];
}

export interface RunDetail {
  run_id: string;
  status: string;
  tasks: Record<string, TaskDetail>;
  pipeline: string;
  pipeline_version: number | null;
  project: string;
  trigger: string;
  execution_date: string | null;
  params: Record<string, unknown>;
  created_at: string | null;
  started_at: string | null;
  finished_at: string | null;
  duration_s: number | null;
  message: string | null;
  stop_requested?: boolean;
}

export interface ArtifactInfo {
  task: string;
  attempt: number;
  name: string;
  kind: string;
  size: number;
  sha256: string | null;
  created_at: string;
  /** The download's path under /api/v1. */
  download: string;
}

export interface RunFilters {
  pipeline?: string;
  status?: string;
  trigger?: string;
  since?: string;
  until?: string;
}

type Query = NonNullable<RunsListRunsData["query"]>;

export function useRuns(filters: RunFilters, pageSize = 50) {
  const project = useSession((s) => s.project);
  return useInfiniteQuery({
    queryKey: [...keys.runs(project), filters],
    queryFn: ({ pageParam }) => {
      const query: Query = { limit: pageSize, cursor: pageParam ?? undefined };
      if (filters.pipeline) query.pipeline = filters.pipeline;
      if (filters.status) query.status = [filters.status as NonNullable<Query["status"]>[number]];
      if (filters.trigger) query.trigger = filters.trigger as Query["trigger"];
      if (filters.since) query.since = filters.since;
      if (filters.until) query.until = filters.until;
      return unwrap(runsListRuns({ path: { project }, query }));
    },
    initialPageParam: null as string | null,
    getNextPageParam: (page: RunPage) => page.next_cursor,
  });
}

export function useRun(runId: string | undefined) {
  const project = useSession((s) => s.project);
  return useQuery({
    queryKey: keys.run(project, runId ?? ""),
    queryFn: async () =>
      (await unwrap(
        runsGetRun({ path: { project, run_id: runId! } }),
      )) as unknown as RunDetail,
    enabled: Boolean(runId),
    // A 1,000-task detail patched by every batch of live events: a deep comparison of the
    // whole detail per patch (TanStack's default) costs more than it saves. liveRuns.ts keeps
    // every unchanged task's object, and the views compare what they show.
    structuralSharing: false,
  });
}

export function useRunArtifacts(runId: string) {
  const project = useSession((s) => s.project);
  return useQuery({
    queryKey: [...keys.run(project, runId), "artifacts"],
    queryFn: async () =>
      (await unwrap(
        artifactsListArtifacts({ path: { project, run_id: runId } }),
      )) as unknown as ArtifactInfo[],
  });
}

export function useRunAlerts(runId: string) {
  const project = useSession((s) => s.project);
  return useQuery({
    queryKey: [...keys.run(project, runId), "alerts"],
    queryFn: () => unwrap(alertsListRunAlerts({ path: { project, run_id: runId } })),
  });
}

/** The pipeline version a run ran: its tasks' dependencies draw the run's graph. */
export function useRunSpec(pipeline: string | undefined, version: number | null | undefined) {
  const project = useSession((s) => s.project);
  return useQuery({
    queryKey: version
      ? keys.version(project, pipeline ?? "", version)
      : [...keys.pipeline(project, pipeline ?? ""), "run-spec"],
    queryFn: async () => {
      // A run without a pinned version (a debug run) is drawn from the latest one.
      const out = version
        ? await unwrap(pipelinesGetVersion({ path: { project, name: pipeline!, version } }))
        : await unwrap(pipelinesGetPipeline({ path: { project, name: pipeline! } }));
      return out.spec as unknown as PipelineJson;
    },
    enabled: Boolean(pipeline) && version !== undefined,
    staleTime: version ? Infinity : 30_000, // a saved version never changes
  });
}

function useRunAction<T>(runId: string, act: (project: string) => Promise<unknown>) {
  const project = useSession((s) => s.project);
  const queries = useQueryClient();
  return useMutation({
    mutationFn: (_: T) => act(project),
    onSettled: () => refreshRunCaches(queries, project, runId),
  });
}

export function useStopRun(runId: string) {
  return useRunAction<void>(runId, (project) =>
    unwrap(runsStopRun({ path: { project, run_id: runId } })),
  );
}

export function useRetryRun(runId: string) {
  return useRunAction<void>(runId, (project) =>
    unwrap(runsRetryRun({ path: { project, run_id: runId } })),
  );
}

export function useRerunRun(runId: string) {
  const project = useSession((s) => s.project);
  const queries = useQueryClient();
  return useMutation({
    mutationFn: (fromTask: string) =>
      unwrap(runsRerunRun({ path: { project, run_id: runId }, body: { from_task: fromTask } })),
    onSettled: () => refreshRunCaches(queries, project, runId),
  });
}
