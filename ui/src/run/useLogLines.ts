// The lines of one attempt's log, live or read once, never more than `max` of them in memory
// (the oldest are dropped and counted: the download has them). New lines are gathered in a
// buffer and shown at most every FLUSH_MS, so a fast log does not render per block.
import { useEffect, useState } from "react";

import { followLog, readLog, type LogOutcome } from "../api/logs";

export const MAX_LINES = 5000;
const FLUSH_MS = 80;

export interface LogView {
  lines: string[];
  /** Lines dropped from the front to stay under the cap. */
  dropped: number;
  state: "loading" | "live" | "ended" | "error";
  error: string | null;
  outcome: LogOutcome | null;
}

export interface LogSource {
  project: string;
  runId: string;
  task: string;
  attempt?: number;
  search?: string;
  /** A distributed task's member: its own log (else the whole gang's, or a plain task's). */
  worker?: string;
  /** Stream the log as it grows (else read it once). */
  live: boolean;
  max?: number;
  onOutcome?: (outcome: LogOutcome) => void;
}

/** A capped list of lines: appends whole blocks, drops from the front. */
export class LineBuffer {
  lines: string[] = [];
  dropped = 0;
  constructor(readonly max: number) {}

  append(text: string): void {
    const added = text.split("\n");
    if (added.length >= this.max) {
      this.dropped += this.lines.length + added.length - this.max;
      this.lines = added.slice(added.length - this.max);
      return;
    }
    this.lines.push(...added);
    const over = this.lines.length - this.max;
    if (over > 0) {
      this.lines.splice(0, over);
      this.dropped += over;
    }
  }
}

const START: LogView = { lines: [], dropped: 0, state: "loading", error: null, outcome: null };

/** The log's lines for one source; give the component a new key to start over. */
export function useLogLines(source: LogSource): LogView {
  const [view, setView] = useState<LogView>(START);
  const { project, runId, task, attempt, search, worker, live, max = MAX_LINES, onOutcome } =
    source;

  useEffect(() => {
    const buffer = new LineBuffer(max);
    let timer: ReturnType<typeof setTimeout> | null = null;
    const show = (extra: Partial<LogView> = {}) =>
      setView((old) => ({
        ...old,
        lines: [...buffer.lines],
        dropped: buffer.dropped,
        ...extra,
      }));
    const flushSoon = () => {
      timer ??= setTimeout(() => {
        timer = null;
        show();
      }, FLUSH_MS);
    };
    const stopTimer = () => {
      if (timer !== null) clearTimeout(timer);
      timer = null;
    };
    if (!live) {
      const controller = new AbortController();
      readLog(project, runId, task, { attempt, search, worker, tail: max }, controller.signal).then(
        (read) => {
          if (read.text) buffer.append(read.text.replace(/\n$/, ""));
          show({ state: "ended" });
        },
        (err: Error) => {
          if (!controller.signal.aborted) show({ state: "error", error: err.message });
        },
      );
      return () => controller.abort();
    }
    let opened = false;
    const stop = followLog(
      project,
      runId,
      task,
      { attempt, search, worker, tail: max },
      {
        onLines: (text) => {
          buffer.append(text);
          if (!opened) {
            opened = true;
            setView((old) => ({ ...old, state: "live" }));
          }
          flushSoon();
        },
        onEnd: (outcome) => {
          stopTimer();
          show({ state: "ended", outcome });
          onOutcome?.(outcome);
        },
        onError: (message) => {
          stopTimer();
          show({ state: "error", error: message });
        },
      },
    );
    return () => {
      stopTimer();
      stop();
    };
    // onOutcome is read when the attempt ends; a new one must not restart the stream.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [project, runId, task, attempt, search, worker, live, max]);
  return view;
}
