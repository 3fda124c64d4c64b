// liveRuns: a batch of live events folds into a run's detail with one copy of its tasks map
// and one cache write; unchanged tasks keep their objects; a finished task's outputs are read
// again, later for a big run than for a small one.
import { QueryClient } from "@tanstack/react-query";

import { runDetail } from "../run/testing";
import type { RunEvent } from "./events";
import { keys } from "./keys";
import { applyEvents, patchRunCaches, refetchDelay } from "./liveRuns";
import type { RunDetail } from "./runs";

const detail = (tasks: Record<string, string>) => runDetail(tasks) as unknown as RunDetail;
let id = 0;
const event = (kind: RunEvent["kind"], fields: Record<string, unknown>): RunEvent => ({
  kind,
  event_id: ++id,
  run_id: "r1",
  pipeline: "diamond",
  at: null,
  ...fields,
});

describe("applyEvents", () => {
  it("folds a batch in order, copying only the tasks it touches", () => {
    const before = detail({ a: "pending", b: "pending", c: "pending" });
    const after = applyEvents(before, [
      event("task", { name: "a", status: "running", attempts: 1 }),
      event("attempt", { task_name: "a", number: 1, status: "running", started_at: "s" }),
      event("task", { name: "a", status: "succeeded" }),
      event("task", { name: "b", status: "running" }),
      event("run", { status: "running", started_at: "t" }),
    ]);
    expect(after.tasks.a).toMatchObject({ status: "succeeded", attempts: 1 });
    expect(after.tasks.a.attempt_list).toHaveLength(1);
    expect(after.tasks.b.status).toBe("running");
    expect(after.tasks.c).toBe(before.tasks.c);
    expect(after.started_at).toBe("t");
    expect(before.tasks.a.status).toBe("pending"); // the cached detail is never mutated
  });

  it("is the same detail when nothing applies", () => {
    const before = detail({ a: "pending" });
    const other = { ...event("task", { name: "a", status: "failed" }), run_id: "r2" };
    expect(applyEvents(before, [other, event("task", { name: "zzz", status: "x" })])).toBe(before);
  });
});

describe("patchRunCaches", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("writes each run's detail once per batch and reads it again after a task ended", () => {
    const queries = new QueryClient();
    const key = keys.run("p", "r1");
    queries.setQueryData(key, detail({ a: "running", b: "pending" }));
    const writes = vi.spyOn(queries, "setQueryData");
    const reads = vi.spyOn(queries, "invalidateQueries");
    patchRunCaches(queries, "p", [
      event("task", { name: "a", status: "succeeded" }),
      event("task", { name: "b", status: "running" }),
    ]);
    expect(writes).toHaveBeenCalledTimes(1);
    const now = queries.getQueryData<RunDetail>(key)!;
    expect([now.tasks.a.status, now.tasks.b.status]).toEqual(["succeeded", "running"]);
    expect(reads).not.toHaveBeenCalled();
    vi.advanceTimersByTime(refetchDelay(2));
    expect(reads).toHaveBeenCalledWith({ queryKey: key });
  });

  it("waits longer before reading a big run again", () => {
    expect(refetchDelay(3)).toBe(500);
    expect(refetchDelay(1000)).toBe(4000);
  });
});
