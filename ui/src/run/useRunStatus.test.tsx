// useRunStatus: the run's task statuses from its detail, then from its live events.
import { renderHook, waitFor } from "@testing-library/react";

import { feedStream, json, runDetail, stubFetch, withQueries } from "./testing";
import { useRunStatus } from "./useRunStatus";

afterEach(() => vi.unstubAllGlobals());

function taskEvent(id: number, name: string, status: string, attempts = 1): string {
  const data = { event_id: id, run_id: "r1", pipeline: "d", at: null, name, status, attempts };
  return `id: ${id}\nevent: task\ndata: ${JSON.stringify(data)}\n\n`;
}

describe("useRunStatus", () => {
  it("starts from the run's detail and follows its events", async () => {
    const stream = feedStream();
    const { calls } = stubFetch(
      (url) => (url.pathname === "/api/v1/events" ? stream.response : undefined),
      (url) =>
        url.pathname === "/api/v1/projects/p/runs/r1"
          ? json(runDetail({ a: "running", b: "pending" }))
          : undefined,
    );
    const { wrapper } = withQueries();
    const { result, unmount } = renderHook(() => useRunStatus("r1"), { wrapper });
    await waitFor(() => expect(result.current).toEqual({ a: "running", b: "pending" }));

    stream.send(": ping\n\n" + taskEvent(5, "a", "succeeded"));
    await waitFor(() => expect(result.current).toEqual({ a: "succeeded", b: "pending" }));
    // an event split mid-line, then one of another run (ignored)
    const other = taskEvent(7, "b", "failed").replace('"run_id":"r1"', '"run_id":"r2"');
    stream.send(taskEvent(6, "b", "running").slice(0, 20));
    stream.send(taskEvent(6, "b", "running").slice(20) + other);
    await waitFor(() => expect(result.current).toEqual({ a: "succeeded", b: "running" }));

    const events = calls.find((u) => u.pathname === "/api/v1/events");
    expect(events?.searchParams.get("project")).toBe("p");
    expect(events?.searchParams.get("run")).toBe("r1");
    unmount();
  });

  it("is empty without a run", () => {
    const { fake } = stubFetch();
    const { wrapper } = withQueries();
    const { result } = renderHook(() => useRunStatus(undefined), { wrapper });
    expect(result.current).toEqual({});
    expect(fake).not.toHaveBeenCalled();
  });
});
