// subscribe: the events read from the stream are gathered for BATCH_MS, then patch the cache
// in one write and reach the listeners in order; what is read before the stream stops still
// reaches the cache.
import { feedStream, runDetail, stubFetch, withQueries } from "../run/testing";
import { BATCH_MS, subscribe, type RunEvent } from "./events";
import { keys } from "./keys";
import type { RunDetail } from "./runs";

afterEach(() => vi.unstubAllGlobals());

function taskEvent(id: number, name: string, status: string): string {
  const data = { event_id: id, run_id: "r1", pipeline: "d", at: null, name, status };
  return `id: ${id}\nevent: task\ndata: ${JSON.stringify(data)}\n\n`;
}

describe("subscribe", () => {
  it("patches the cache once per batch of events", async () => {
    const stream = feedStream();
    stubFetch((url) => (url.pathname === "/api/v1/events" ? stream.response : undefined));
    const { queries } = withQueries();
    const key = keys.run("p", "r1");
    queries.setQueryData(key, runDetail({ a: "pending", b: "pending" }));
    const writes = vi.spyOn(queries, "setQueryData");
    const seen: RunEvent[] = [];
    const leave = subscribe(queries, "p", { run: "r1" }, (event) => seen.push(event));

    stream.send(taskEvent(1, "a", "running") + taskEvent(2, "b", "running"));
    stream.send(taskEvent(3, "a", "succeeded"));
    await vi.waitFor(() => expect(seen).toHaveLength(3), { timeout: 20 * BATCH_MS });
    expect(seen.map((e) => e.event_id)).toEqual([1, 2, 3]);
    expect(writes).toHaveBeenCalledTimes(1);
    const now = queries.getQueryData<RunDetail>(key)!;
    expect([now.tasks.a.status, now.tasks.b.status]).toEqual(["succeeded", "running"]);

    // read just before leaving (10 ms, a tenth of a batch): it still reaches the cache
    stream.send(taskEvent(4, "b", "failed"));
    await new Promise((resolve) => setTimeout(resolve, 10));
    leave();
    expect(queries.getQueryData<RunDetail>(key)!.tasks.b.status).toBe("failed");
  });
});
