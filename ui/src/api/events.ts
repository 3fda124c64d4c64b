// Server-Sent Events read with fetch (an EventSource cannot send the Authorization header):
// a chunk-safe parser, a follower that reconnects with Last-Event-ID after a drop (with a
// growing back-off), and useEvents, the project's live run/task/attempt changes. One stream
// per project (and run) is shared by every component that listens; its events are gathered
// for BATCH_MS and each batch patches the TanStack Query cache once (liveRuns.ts), so every
// page is live without a reload, and a run of 1,000 tasks (thousands of events) costs a few
// renders a second, not one per event.
import { useQueryClient, type QueryClient } from "@tanstack/react-query";
import { useEffect, useRef } from "react";

import { useSession } from "../auth/session";
import { authFetch, toApiError } from "./http";
import { patchRunCaches, refreshRunCaches } from "./runs";

export interface SseMessage {
  event: string;
  data: string;
  id: string | null;
}

/** The SSE wire format, fed in chunks that may split a line (or a "\r\n") anywhere. */
export class SseParser {
  lastEventId: string | null = null;
  retry: number | null = null;
  private buffer = "";
  private data: string[] = [];
  private event = "";
  private sawCr = false;

  push(chunk: string): SseMessage[] {
    if (this.sawCr && chunk.startsWith("\n")) chunk = chunk.slice(1);
    this.sawCr = chunk.endsWith("\r");
    const text = this.buffer + chunk;
    const lines = text.split(/\r\n|\r|\n/);
    this.buffer = lines.pop() ?? "";
    const out: SseMessage[] = [];
    for (const line of lines) {
      const message = this.line(line);
      if (message) out.push(message);
    }
    return out;
  }

  private line(line: string): SseMessage | null {
    if (line === "") return this.dispatch();
    if (line.startsWith(":")) return null; // a comment: the keep-alive ping
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "data") this.data.push(value);
    else if (field === "event") this.event = value;
    else if (field === "id" && !value.includes("\0")) this.lastEventId = value;
    else if (field === "retry" && /^\d+$/.test(value)) this.retry = Number(value);
    return null;
  }

  private dispatch(): SseMessage | null {
    const data = this.data;
    const event = this.event || "message";
    this.data = [];
    this.event = "";
    if (data.length === 0) return null;
    return { event, data: data.join("\n"), id: this.lastEventId };
  }
}

export interface FollowOptions {
  onMessage: (message: SseMessage) => void;
  /** Each time a connection opens; `resumed`: it carried a Last-Event-ID. */
  onOpen?: (resumed: boolean) => void;
  /** A refusal the server will repeat (4xx): the follower stops. */
  onError?: (error: Error) => void;
  /** A message after which the server closes on purpose: no reconnection. */
  isLast?: (message: SseMessage) => boolean;
  lastEventId?: string | null;
  /** Back-off in ms: the first wait, doubled after each failure up to the last. */
  backoff?: { first: number; max: number };
  fetcher?: typeof authFetch;
}

/** Read a stream until stopped; reconnect after a drop, resuming at the last id seen. */
export function followSse(url: string, options: FollowOptions): () => void {
  const controller = new AbortController();
  const { first, max } = options.backoff ?? { first: 1000, max: 30_000 };
  const fetcher = options.fetcher ?? authFetch;
  let lastId = options.lastEventId ?? null;
  let wait = first;

  const once = async (): Promise<"again" | "done"> => {
    const headers: Record<string, string> = { Accept: "text/event-stream" };
    if (lastId !== null) headers["Last-Event-ID"] = lastId;
    const response = await fetcher(url, { headers, signal: controller.signal });
    if (!response.ok) {
      const body = await response.json().catch(() => undefined);
      const error = toApiError(response.status, body);
      if (response.status >= 400 && response.status < 500 && response.status !== 429) {
        options.onError?.(error);
        return "done";
      }
      throw error;
    }
    if (!response.body) throw new Error("the server sent no stream");
    options.onOpen?.(lastId !== null);
    wait = first; // a stream that opened resets the back-off
    const parser = new SseParser();
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return "again";
      for (const message of parser.push(value)) {
        if (message.id !== null) lastId = message.id;
        options.onMessage(message);
        if (options.isLast?.(message)) {
          await reader.cancel().catch(() => undefined);
          return "done";
        }
      }
      if (parser.retry !== null) wait = parser.retry;
    }
  };

  void (async () => {
    while (!controller.signal.aborted) {
      try {
        if ((await once()) === "done") return;
      } catch {
        // a dropped connection or a server away: wait, then resume where the stream was
      }
      if (controller.signal.aborted) return;
      await sleep(wait, controller.signal);
      wait = Math.min(wait * 2, max);
    }
  })();
  return () => controller.abort();
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

// -- the project's live events --------------------------------------------------------------

/** One change as the server sends it: the kind, then the changed fields of it. */
export interface RunEvent {
  kind: "run" | "task" | "attempt";
  event_id: number;
  run_id: string;
  pipeline: string;
  at: string | null;
  [field: string]: unknown;
}

export interface EventFilter {
  /** Only this run's events (the project's when absent). */
  run?: string;
}

/** How long events are gathered before they patch the cache (and reach the listeners). */
export const BATCH_MS = 100;

type Listener = (event: RunEvent) => void;
interface Stream {
  listeners: Set<Listener>;
  stop: () => void;
}
const streams = new Map<string, Stream>();

export function eventsUrl(project: string, filter: EventFilter): string {
  const query = new URLSearchParams({ project });
  if (filter.run) query.set("run", filter.run);
  return `/api/v1/events?${query}`;
}

export function toRunEvent(message: SseMessage): RunEvent | null {
  if (!["run", "task", "attempt"].includes(message.event)) return null;
  try {
    return { ...JSON.parse(message.data), kind: message.event } as RunEvent;
  } catch {
    return null;
  }
}

/** Join the shared stream of a project (and run): returns how to leave it. */
export function subscribe(
  queries: QueryClient,
  project: string,
  filter: EventFilter,
  listener: Listener,
): () => void {
  const key = eventsUrl(project, filter);
  let stream = streams.get(key);
  if (!stream) {
    const listeners = new Set<Listener>();
    let batch: RunEvent[] = [];
    let timer: ReturnType<typeof setTimeout> | null = null;
    const flush = () => {
      if (timer !== null) clearTimeout(timer);
      timer = null;
      const events = batch;
      batch = [];
      if (events.length === 0) return;
      patchRunCaches(queries, project, events);
      for (const event of events) for (const each of listeners) each(event);
    };
    const follow = followSse(key, {
      // A fresh stream starts at the newest event: what changed before it is read again.
      onOpen: (resumed) => {
        if (!resumed) refreshRunCaches(queries, project, filter.run);
      },
      onMessage: (message) => {
        const event = toRunEvent(message);
        if (!event) return;
        batch.push(event);
        timer ??= setTimeout(flush, BATCH_MS);
      },
    });
    const stop = () => {
      follow();
      flush(); // what was read still reaches the cache
    };
    stream = { listeners, stop };
    streams.set(key, stream);
  }
  stream.listeners.add(listener);
  const joined = stream;
  return () => {
    joined.listeners.delete(listener);
    if (joined.listeners.size === 0) {
      joined.stop();
      streams.delete(key);
    }
  };
}

/** Follow the project's live changes while mounted (null: not now); `onEvent` (optional)
 * sees each one. */
export function useEvents(filter: EventFilter | null, onEvent?: Listener): void {
  const project = useSession((s) => s.project);
  const queries = useQueryClient();
  const latest = useRef(onEvent);
  useEffect(() => {
    latest.current = onEvent;
  });
  const off = filter === null;
  const run = filter?.run;
  useEffect(() => {
    if (off) return;
    return subscribe(queries, project, { run }, (event) => latest.current?.(event));
  }, [queries, project, run, off]);
}
