// Live events (events.ts) folded into the cached runs: a batch of events patches each run's
// detail once (its tasks map copied once, every unchanged task keeping its object) and the runs
// lists once; what an event cannot patch (a new run in the lists, a finished task's outputs and
// artifacts) is read again, no more often than the run's size makes affordable.
import type { InfiniteData, QueryClient } from "@tanstack/react-query";

import type { RunPage, RunRow } from "../client/types.gen";
import type { RunEvent } from "./events";
import { keys } from "./keys";
import type { AttemptDetail, RunDetail, TaskDetail } from "./runs";

const TASK_FIELDS = ["status", "attempts", "exit_code", "started_at", "finished_at", "message"];
const RUN_FIELDS = ["status", "started_at", "finished_at", "message", "stop_requested"];
const ENDED = new Set(["succeeded", "failed", "stopped", "skipped", "upstream_failed"]);
const RUN_ENDED = new Set(["succeeded", "failed", "stopped"]);
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

/** How long to wait before reading a run's detail again after a task ended: 0.5 s for a
 * small run, up to 4 s for one of 1,000 tasks (each read is the whole detail). */
export function refetchDelay(taskCount: number): number {
  return Math.min(4000, Math.max(500, taskCount * 4));
}

function patchTask(task: TaskDetail, event: RunEvent): TaskDetail {
  if (event.kind === "task") return { ...task, ...pick(event, TASK_FIELDS) };
  const attempt = {
    ...pick(event, ["number", "status", "exit_code", "started_at", "finished_at"]),
  } as Partial<AttemptDetail> & { number: number };
  const list = task.attempt_list ?? [];
  const known = list.some((a) => a.number === attempt.number);
  const merged = known
    ? list.map((a) => (a.number === attempt.number ? { ...a, ...attempt } : a))
    : [...list, { status: "running", started_at: null, ...BLANK_ATTEMPT, ...attempt }];
  return { ...task, attempt_list: merged };
}

/** A run detail with events folded in, in order: the tasks map is copied once, unchanged
 * tasks keep their objects, and the detail itself when no event applies. */
export function applyEvents(detail: RunDetail, events: readonly RunEvent[]): RunDetail {
  let next = detail;
  let tasks: Record<string, TaskDetail> | null = null;
  for (const event of events) {
    if (event.run_id !== detail.run_id) continue;
    if (event.kind === "run") {
      next = { ...next, ...pick(event, RUN_FIELDS) };
      continue;
    }
    const name = String(event.kind === "task" ? event.name : event.task_name);
    const task = (tasks ?? detail.tasks)[name];
    if (!task) continue;
    tasks ??= { ...detail.tasks };
    tasks[name] = patchTask(task, event);
  }
  return tasks ? { ...next, tasks } : next;
}

/** A run detail with one event folded in (the same object when it does not apply). */
export function applyEvent(detail: RunDetail, event: RunEvent): RunDetail {
  return applyEvents(detail, [event]);
}

function patchRow(row: RunRow, event: RunEvent): RunRow {
  return row.id === event.run_id ? { ...row, ...pick(event, RUN_FIELDS) } : row;
}

/** Fold a batch of live events into the cached run details and runs lists; read again what
 * they cannot patch. */
export function patchRunCaches(
  queries: QueryClient,
  project: string,
  events: readonly RunEvent[],
): void {
  const byRun = new Map<string, RunEvent[]>();
  for (const event of events) {
    const list = byRun.get(event.run_id);
    if (list) list.push(event);
    else byRun.set(event.run_id, [event]);
  }
  for (const [runId, list] of byRun) patchRun(queries, project, runId, list);
  const runEvents = events.filter((e) => e.kind === "run");
  if (runEvents.length) patchLists(queries, project, runEvents);
}

function patchRun(queries: QueryClient, project: string, runId: string, events: RunEvent[]) {
  const key = keys.run(project, runId);
  const detail = queries.getQueryData<RunDetail>(key);
  if (detail) {
    const next = applyEvents(detail, events);
    if (next !== detail) queries.setQueryData<RunDetail>(key, next);
  }
  const refetch = () => void queries.invalidateQueries({ queryKey: key });
  if (events.some((e) => e.kind === "run" && RUN_ENDED.has(String(e.status)))) {
    soon(`run-end:${project}:${runId}`, 300, refetch); // the last outputs and artifacts
  }
  if (events.some((e) => e.kind === "task" && ENDED.has(String(e.status)))) {
    const count = detail ? Object.keys(detail.tasks).length : 0;
    soon(`run:${project}:${runId}`, refetchDelay(count), refetch);
  }
}

function patchLists(queries: QueryClient, project: string, events: RunEvent[]) {
  const unlisted = new Set(events.map((e) => e.run_id));
  queries.setQueriesData<InfiniteData<RunPage>>({ queryKey: keys.runs(project) }, (data) => {
    if (!data) return data;
    const pages = data.pages.map((page) => ({
      ...page,
      items: page.items.map((row) => {
        const mine = events.filter((e) => e.run_id === row.id);
        if (!mine.length) return row;
        unlisted.delete(row.id);
        return mine.reduce(patchRow, row);
      }),
    }));
    return { ...data, pages };
  });
  if (unlisted.size) {
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
