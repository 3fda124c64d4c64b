// applyEvent: a live event folded into a run's detail.
import { runDetail } from "../run/testing";
import type { RunEvent } from "./events";
import { applyEvent, type RunDetail } from "./runs";

const base = () => runDetail({ a: "running", b: "pending" }) as unknown as RunDetail;
const event = (kind: RunEvent["kind"], fields: Record<string, unknown>): RunEvent => ({
  kind,
  event_id: 1,
  run_id: "r1",
  pipeline: "diamond",
  at: null,
  ...fields,
});

describe("applyEvent", () => {
  it("patches the run's and a task's fields", () => {
    const run = applyEvent(base(), event("run", { status: "failed", finished_at: "x" }));
    expect(run.status).toBe("failed");
    expect(run.finished_at).toBe("x");
    const task = applyEvent(base(), event("task", { name: "b", status: "running", attempts: 1 }));
    expect(task.tasks.b).toMatchObject({ status: "running", attempts: 1, outputs: {} });
    expect(task.tasks.a.status).toBe("running");
  });

  it("adds an attempt, then updates it", () => {
    const started = applyEvent(
      base(),
      event("attempt", { task_name: "a", number: 1, status: "running", started_at: "s" }),
    );
    expect(started.tasks.a.attempt_list).toEqual([
      {
        number: 1,
        status: "running",
        started_at: "s",
        exit_code: null,
        finished_at: null,
        message: null,
      },
    ]);
    const ended = applyEvent(
      started,
      event("attempt", { task_name: "a", number: 1, status: "failed", exit_code: 3 }),
    );
    expect(ended.tasks.a.attempt_list[0]).toMatchObject({
      status: "failed",
      exit_code: 3,
      started_at: "s",
    });
  });

  it("leaves another run's detail and unknown tasks alone", () => {
    const detail = base();
    const other = { ...event("run", { status: "failed" }), run_id: "r2" };
    expect(applyEvent(detail, other)).toBe(detail);
    expect(applyEvent(detail, event("task", { name: "zzz", status: "failed" }))).toBe(detail);
  });
});
