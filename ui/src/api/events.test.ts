// The SSE reader: the wire format in arbitrary chunks, keep-alive pings, ids, and the
// follower's reconnection with Last-Event-ID after a drop.
import { followSse, SseParser, toRunEvent, type SseMessage } from "./events";

function streamOf(chunks: string[], keepOpen = false): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(encoder.encode(chunk));
      if (!keepOpen) controller.close();
    },
  });
}

function sseResponse(chunks: string[], keepOpen = false): Response {
  return new Response(streamOf(chunks, keepOpen), {
    status: 200,
    headers: { "Content-Type": "text/event-stream" },
  });
}

describe("SseParser", () => {
  it("joins lines split across chunks, anywhere", () => {
    const text =
      'id: 7\nevent: task\ndata: {"name": "a", "status": "running"}\n\n' +
      "id: 8\nevent: run\ndata: {\"status\": \"succeeded\"}\n\n";
    for (let cut = 1; cut < text.length; cut += 1) {
      const parser = new SseParser();
      const out = [...parser.push(text.slice(0, cut)), ...parser.push(text.slice(cut))];
      expect(out).toEqual([
        { event: "task", data: '{"name": "a", "status": "running"}', id: "7" },
        { event: "run", data: '{"status": "succeeded"}', id: "8" },
      ]);
    }
  });

  it("handles CRLF split between chunks and multi-line data", () => {
    const parser = new SseParser();
    const out = [
      ...parser.push("event: log\r"),
      ...parser.push("\ndata: line one\r\ndata: line two\r"),
      ...parser.push("\n\r\n"),
    ];
    expect(out).toEqual([{ event: "log", data: "line one\nline two", id: null }]);
  });

  it("ignores keep-alive comments and events without data", () => {
    const parser = new SseParser();
    const out = parser.push(": ping - 2026-01-01 00:00:00\n\n: ping\n\nid: 3\n\ndata: x\n\n");
    expect(out).toEqual([{ event: "message", data: "x", id: "3" }]);
    expect(parser.lastEventId).toBe("3");
  });

  it("keeps the last id for events that carry none, and reads retry", () => {
    const parser = new SseParser();
    const out = parser.push("id: 5:3\ndata: a\n\nretry: 2500\ndata: b\n\n");
    expect(out.map((m) => m.id)).toEqual(["5:3", "5:3"]);
    expect(parser.retry).toBe(2500);
  });
});

describe("toRunEvent", () => {
  it("reads run, task and attempt events and nothing else", () => {
    const message: SseMessage = { event: "task", data: '{"run_id": "r1", "name": "a"}', id: "1" };
    expect(toRunEvent(message)).toMatchObject({ kind: "task", run_id: "r1", name: "a" });
    expect(toRunEvent({ event: "message", data: "{}", id: null })).toBeNull();
    expect(toRunEvent({ event: "run", data: "not json", id: null })).toBeNull();
  });
});

describe("followSse", () => {
  it("reconnects after a drop with the last id seen, and stops when asked", async () => {
    const calls: (string | null)[] = [];
    const fetcher = vi.fn(async (_url: string, init?: RequestInit) => {
      calls.push(new Headers(init?.headers).get("Last-Event-ID"));
      if (calls.length === 1) {
        return sseResponse(["id: 1\nevent: run\ndata: {\"a\":1}\n\n", "id: 2\nevent: run\nda"]);
      }
      if (calls.length === 2) throw new TypeError("network down");
      return sseResponse([": ping\n\n", "id: 3\nevent: run\ndata: {\"a\":3}\n\n"], true);
    });
    const seen: SseMessage[] = [];
    const opened: boolean[] = [];
    const stop = followSse("/api/v1/events?project=p", {
      fetcher,
      backoff: { first: 5, max: 20 },
      onMessage: (m) => seen.push(m),
      onOpen: (resumed) => opened.push(resumed),
    });
    await vi.waitFor(() => expect(seen.map((m) => m.id)).toEqual(["1", "3"]));
    stop();
    // The half-sent event 2 was never complete: the stream resumes after 1.
    expect(calls).toEqual([null, "1", "1"]);
    expect(opened).toEqual([false, true]);
  });

  it("gives up on a refusal and reports it", async () => {
    const fetcher = vi.fn(async () =>
      new Response(JSON.stringify({ error: { message: "log in first" } }), { status: 401 }),
    );
    const errors: string[] = [];
    followSse("/x", { fetcher, onMessage: () => {}, onError: (e) => errors.push(e.message) });
    await vi.waitFor(() => expect(errors).toEqual(["log in first"]));
    await new Promise((r) => setTimeout(r, 30));
    expect(fetcher).toHaveBeenCalledTimes(1);
  });

  it("does not reconnect after the message the server ends with", async () => {
    const fetcher = vi.fn(async () =>
      sseResponse(["event: log\ndata: a\n\nevent: end\ndata: {}\n\n"], true),
    );
    const seen: string[] = [];
    followSse("/x", {
      fetcher,
      backoff: { first: 1, max: 1 },
      onMessage: (m) => seen.push(m.event),
      isLast: (m) => m.event === "end",
    });
    await vi.waitFor(() => expect(seen).toEqual(["log", "end"]));
    await new Promise((r) => setTimeout(r, 30));
    expect(fetcher).toHaveBeenCalledTimes(1);
  });
});
