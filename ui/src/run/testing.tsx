// Test helpers for the run view: a fetch that answers by URL (JSON, or an SSE stream the test
// feeds), and a QueryClient wrapper.
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import type { ReactNode } from "react";

import { client } from "../api/http";
import { useSession } from "../auth/session";

export interface FeedStream {
  response: Response;
  send: (text: string) => void;
  close: () => void;
}

/** An SSE response whose body the test writes to as it goes. */
export function feedStream(): FeedStream {
  const encoder = new TextEncoder();
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
    },
  });
  return {
    response: new Response(body, { headers: { "Content-Type": "text/event-stream" } }),
    send: (text) => controller.enqueue(encoder.encode(text)),
    close: () => controller.close(),
  };
}

export function json(data: unknown, status = 200): Response {
  return new Response(JSON.stringify(data), {
    status,
    headers: { "Content-Type": "application/json" },
  });
}

type Route = (url: URL, init?: RequestInit) => Response | Promise<Response> | undefined;

/** Stub the global fetch: each call goes to the first route that answers. */
export function stubFetch(...routes: Route[]) {
  const calls: URL[] = [];
  const fake = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const raw = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
    const url = new URL(raw, "http://localhost");
    calls.push(url);
    for (const route of routes) {
      const answer = await route(url, init);
      if (answer) return answer;
    }
    return json({ error: { message: `no route for ${url.pathname}` } }, 404);
  });
  vi.stubGlobal("fetch", fake);
  return { fake, calls };
}

export function withQueries(): {
  queries: QueryClient;
  wrapper: (props: { children: ReactNode }) => ReactNode;
} {
  useSession.setState({ token: "t", project: "p" });
  // Node's Request needs an absolute URL; the app's is same-origin ("").
  client.setConfig({ baseUrl: "http://localhost" });
  const queries = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  const wrapper = ({ children }: { children: ReactNode }) => (
    <QueryClientProvider client={queries}>{children}</QueryClientProvider>
  );
  return { queries, wrapper };
}

export const TASK = {
  attempts: 0,
  exit_code: null,
  started_at: null,
  finished_at: null,
  message: null,
  outputs: {},
  attempt_list: [],
};

export function runDetail(tasks: Record<string, string>, status = "running") {
  return {
    run_id: "r1",
    status,
    pipeline: "diamond",
    pipeline_version: 1,
    project: "p",
    trigger: "manual",
    execution_date: null,
    params: {},
    created_at: "2026-01-01T00:00:00+00:00",
    started_at: "2026-01-01T00:00:00+00:00",
    finished_at: null,
    duration_s: null,
    message: null,
    tasks: Object.fromEntries(
      Object.entries(tasks).map(([name, s]) => [name, { ...TASK, status: s }]),
    ),
  };
}
