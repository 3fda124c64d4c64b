// Runs: the list (filters, cursor pages), one run with its tasks and attempts (the server's
// engine/details.py shape, typed here as the route has no response model), its artifacts and
// alert deliveries, the pipeline version it ran (for its graph), and stop / retry / rerun.
// patchRunCaches folds a live event (events.ts) into whatever of these is cached.
import {
  useInfiniteQuery,
  useMutation,
  useQuery,
  useQueryClient,
  type InfiniteData,
  type QueryClient,
} from "@tanstack/react-query";

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
import type { RunEvent } from "./events";
import { unwrap } from "./http";
import { keys } from "./keys";

export type { AlertDeliveryOut, RunPage, RunRow };

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

// -- live updates ---------------------------------------------------------------------------

const TASK_FIELDS = ["status", "attempts", "exit_code", "started_at", "finished_at", "message"];
const RUN_FIELDS = ["status", "started_at", "finished_at", "message", "stop_requested"];
const ENDED = new Set(["succeeded", "failed", "stopped", "skipped", "upstream_failed"]);
const BLANK_ATTEMPT = { exit_code: null, finished_at: null, message: null };
const pending = new Map<string, ReturnType<typeof setTimeout>>();

function pick(event: RunEvent, fields: string[]): Record<string, unknown> {
  return Object.fromEntries(fields.filter((f) => f in event).map((f) => [f, event[f]]));
}

/** Run `fn` once after `ms`, however often it is asked for meanwhile. */
function soon(key: string, ms: number, fn: () => void): void {
  if (pending.has(key)) return;
  pending.set(
    key,
    setTimeout(() => {
      pending.delete(key);
      fn();
    }, ms),
  );
}

/** A run detail with one event folded in (the same object when it does not apply). */
export function applyEvent(detail: RunDetail, event: RunEvent): RunDetail {
  if (event.run_id !== detail.run_id) return detail;
  if (event.kind === "run") return { ...detail, ...pick(event, RUN_FIELDS) };
  const name = String(event.kind === "task" ? event.name : event.task_name);
  const task = detail.tasks[name];
  if (!task) return detail;
  let next: TaskDetail;
  if (event.kind === "task") {
    next = { ...task, ...pick(event, TASK_FIELDS) };
  } else {
    const attempt = {
      ...pick(event, ["number", "status", "exit_code", "started_at", "finished_at"]),
    } as Partial<AttemptDetail> & { number: number };
    const list = task.attempt_list ?? [];
    const known = list.some((a) => a.number === attempt.number);
    const merged = known
      ? list.map((a) => (a.number === attempt.number ? { ...a, ...attempt } : a))
      : [...list, { status: "running", started_at: null, ...BLANK_ATTEMPT, ...attempt }];
    next = { ...task, attempt_list: merged };
  }
  return { ...detail, tasks: { ...detail.tasks, [name]: next } };
}

function patchRow(row: RunRow, event: RunEvent): RunRow {
  return row.id === event.run_id ? { ...row, ...pick(event, RUN_FIELDS) } : row;
}

/** Fold a live event into the cached run detail and runs lists; refetch what it cannot
 * patch (a new run in the lists, a finished task's outputs and artifacts). */
export function patchRunCaches(queries: QueryClient, project: string, event: RunEvent): void {
  queries.setQueryData<RunDetail>(keys.run(project, event.run_id), (detail) =>
    detail ? applyEvent(detail, event) : detail,
  );
  if (event.kind !== "run") {
    if (event.kind === "task" && ENDED.has(String(event.status))) {
      soon(`run:${project}:${event.run_id}`, 500, () =>
        queries.invalidateQueries({ queryKey: keys.run(project, event.run_id) }),
      );
    }
    return;
  }
  let listed = false;
  queries.setQueriesData<InfiniteData<RunPage>>({ queryKey: keys.runs(project) }, (data) => {
    if (!data) return data;
    const pages = data.pages.map((page) => ({
      ...page,
      items: page.items.map((row) => {
        if (row.id === event.run_id) listed = true;
        return patchRow(row, event);
      }),
    }));
    return { ...data, pages };
  });
  if (!listed) {
    soon(`runs:${project}`, 300, () => queries.invalidateQueries({ queryKey: keys.runs(project) }));
  }
  soon(`pipelines:${project}`, 1000, () =>
    queries.invalidateQueries({ queryKey: keys.pipelines(project) }),
  );
}

/** Read again what a stream that starts now cannot replay. */
export function refreshRunCaches(queries: QueryClient, project: string, runId?: string): void {
  void queries.invalidateQueries({ queryKey: keys.runs(project) });
  void queries.invalidateQueries({ queryKey: runId ? keys.run(project, runId) : ["run", project] });
}
