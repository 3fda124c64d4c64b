// One attempt's log (src/cubestudio/api/routes/logs.py): a read of its last lines, a live
// follow (Server-Sent Events: `event: log` blocks of lines, then `event: end` with the
// attempt's outcome), and downloads. Downloads need the bearer token, so they are fetched and
// handed to the browser as a blob, never a plain link.
import { followSse, type SseMessage } from "./events";
import { authFetch, toApiError } from "./http";

export interface LogQuery {
  attempt?: number;
  tail?: number;
  search?: string;
  literal?: boolean;
  /** A distributed task's member (a name such as "worker-0", or a rank): its own log.
   * Absent: the whole gang's log, each line prefixed with its member's name. */
  worker?: string;
}

export interface LogOutcome {
  attempt: number;
  status: string;
  exit_code: number | null;
  attempts: number;
}

export interface LogRead {
  text: string;
  attempt: number;
  complete: boolean;
}

export function logUrl(
  project: string,
  runId: string,
  task: string,
  query: LogQuery & { follow?: boolean; download?: boolean },
): string {
  const path = [project, "runs", runId, "tasks", task].map(encodeURIComponent);
  const params = new URLSearchParams();
  if (query.attempt) params.set("attempt", String(query.attempt));
  if (query.tail !== undefined) params.set("tail", String(query.tail));
  if (query.search) params.set("search", query.search);
  if (query.literal) params.set("literal", "true");
  if (query.worker) params.set("worker", query.worker);
  if (query.follow) params.set("follow", "true");
  if (query.download) params.set("download", "true");
  const [p, runs, id, tasks, name] = path;
  const text = params.toString();
  return `/api/v1/projects/${p}/${runs}/${id}/${tasks}/${name}/logs${text ? `?${text}` : ""}`;
}

/** The log's lines once (an ended attempt's, or a running one's so far). */
export async function readLog(
  project: string,
  runId: string,
  task: string,
  query: LogQuery,
  signal?: AbortSignal,
): Promise<LogRead> {
  const response = await authFetch(logUrl(project, runId, task, query), { signal });
  if (!response.ok) {
    throw toApiError(response.status, await response.json().catch(() => undefined));
  }
  return {
    text: await response.text(),
    attempt: Number(response.headers.get("X-Log-Attempt") ?? query.attempt ?? 0),
    complete: response.headers.get("X-Log-Complete") === "true",
  };
}

export interface FollowHandlers {
  /** A block of new lines ("\n" between them, none at the end). */
  onLines: (text: string) => void;
  onEnd: (outcome: LogOutcome) => void;
  onError: (message: string) => void;
}

/** Stream the log as it grows, resuming at the last byte offset after a drop; stops after
 * the attempt's `end`. Returns how to stop earlier. */
export function followLog(
  project: string,
  runId: string,
  task: string,
  query: LogQuery,
  handlers: FollowHandlers,
): () => void {
  const url = logUrl(project, runId, task, { ...query, follow: true });
  const onMessage = (message: SseMessage) => {
    if (message.event === "log") handlers.onLines(message.data);
    else if (message.event === "end") handlers.onEnd(JSON.parse(message.data) as LogOutcome);
    else if (message.event === "error") {
      handlers.onError((JSON.parse(message.data) as { message: string }).message);
    }
  };
  return followSse(url, {
    onMessage,
    onError: (error) => handlers.onError(error.message),
    isLast: (message) => message.event === "end" || message.event === "error",
  });
}

/** Fetch a download with the session's token and hand it to the browser as a file. */
export async function saveDownload(url: string, fallbackName: string): Promise<void> {
  const response = await authFetch(url);
  if (!response.ok) {
    throw toApiError(response.status, await response.json().catch(() => undefined));
  }
  const blob = await response.blob();
  const disposition = response.headers.get("Content-Disposition") ?? "";
  const named = /filename\*=utf-8''([^;]+)/i.exec(disposition);
  const link = document.createElement("a");
  link.href = URL.createObjectURL(blob);
  link.download = named ? decodeURIComponent(named[1]) : fallbackName;
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
}

export function downloadLog(
  project: string,
  runId: string,
  task: string,
  attempt?: number,
  worker?: string,
) {
  const url = logUrl(project, runId, task, { attempt, worker, download: true });
  const who = worker ? `-${worker}` : "";
  return saveDownload(url, `${runId}-${task}${who}-${attempt ?? "latest"}.log`);
}
