// One task's log in a run: an attempt switcher, a distributed task's member switcher (all of
// the gang, or one member's own log), a server-side search (matches highlighted),
// a download of the whole log, and the lines, followed live while the attempt runs with an
// auto-scroll ("follow") toggle. Used by the run view and by the editor's debug panel.
import { useState } from "react";

import { useSession } from "../auth/session";
import { downloadLog, type LogOutcome } from "../api/logs";
import { useRun } from "../api/runs";
import { LogLines } from "./LogLines";
import { MAX_LINES, useLogLines } from "./useLogLines";
import { WorkerSelect } from "./WorkerSelect";

export interface LogPanelProps {
  runId: string;
  task: string;
  /** An attempt to show; the latest (and each newer one as it starts) when absent. */
  attempt?: number;
  /** Stream the log as it grows (the default), until its attempt ends; false reads it once.
   * Read when the panel mounts: give it a new key to change. */
  follow?: boolean;
  /** How many lines to keep in memory at most (MAX_LINES by default). */
  maxLines?: number;
}

export function LogPanel({ runId, task, attempt, follow = true, maxLines }: LogPanelProps) {
  const project = useSession((s) => s.project);
  const run = useRun(runId);
  const [chosen, setChosen] = useState<number | undefined>(attempt);
  const [live] = useState(follow);
  const [draft, setDraft] = useState("");
  const [search, setSearch] = useState("");
  const [worker, setWorker] = useState("");
  const [generation, setGeneration] = useState(0);
  const [downloadError, setDownloadError] = useState<string | null>(null);
  const attempts = run.data?.tasks[task]?.attempts ?? 0;
  const pinned = chosen ?? attempt;

  // Following the latest attempt: when a retry starts a newer one, follow that.
  const onOutcome = (outcome: LogOutcome) => {
    if (pinned === undefined && live && outcome.attempts > outcome.attempt) {
      setGeneration((g) => g + 1);
    }
  };
  const download = () => {
    setDownloadError(null);
    downloadLog(project, runId, task, pinned, worker || undefined).catch((err: Error) =>
      setDownloadError(`download: ${err.message}`),
    );
  };

  return (
    <section className="log-panel" aria-label={`log of ${task}`} data-testid="log-panel">
      <div className="log-toolbar">
        <label className="inline">
          <span className="hint">Attempt</span>
          <select
            aria-label="attempt"
            value={pinned ?? ""}
            onChange={(e) => setChosen(e.target.value ? Number(e.target.value) : undefined)}
          >
            <option value="">latest{attempts ? ` (${attempts})` : ""}</option>
            {Array.from({ length: attempts }, (_, i) => i + 1).map((n) => (
              <option key={n} value={n}>
                {n}
              </option>
            ))}
          </select>
        </label>
        <WorkerSelect runId={runId} task={task} value={worker} onChange={setWorker} />
        <form
          className="row"
          role="search"
          onSubmit={(e) => {
            e.preventDefault();
            setSearch(draft.trim());
          }}
        >
          <input
            type="search"
            aria-label="search the log"
            placeholder="Search (regex)…"
            value={draft}
            onChange={(e) => {
              setDraft(e.target.value);
              if (!e.target.value) setSearch("");
            }}
          />
          <button type="submit">Search</button>
        </form>
        <button type="button" onClick={download} aria-label="download the log">
          Download
        </button>
      </div>
      {downloadError && <p className="error">{downloadError}</p>}
      <LogBody
        key={`${project}/${runId}/${task}/${pinned ?? "latest"}/${worker}/${search}/${generation}`}
        source={{
          project,
          runId,
          task,
          attempt: pinned,
          search: search || undefined,
          worker: worker || undefined,
          live,
          max: maxLines ?? MAX_LINES,
          onOutcome,
        }}
      />
    </section>
  );
}

function LogBody({ source }: { source: Parameters<typeof useLogLines>[0] }) {
  const view = useLogLines(source);
  const max = source.max ?? MAX_LINES;
  return (
    <>
      <LogLines
        lines={view.lines}
        search={source.search}
        firstNumber={view.dropped + 1}
        live={view.state === "live" || view.state === "loading"}
        empty={emptyText(view.state, source.search)}
      />
      <div className="log-footer hint" data-testid="log-state" data-state={view.state}>
        {view.state === "error" && <span className="error">{view.error}</span>}
        {view.state === "loading" && (source.live ? "waiting for output…" : "reading…")}
        {view.state === "live" && "following the log as it is written"}
        {view.state === "ended" && view.outcome && (
          <span>
            attempt {view.outcome.attempt} {view.outcome.status}
            {view.outcome.exit_code !== null ? ` (exit code ${view.outcome.exit_code})` : ""}
          </span>
        )}
        {(view.dropped > 0 || view.lines.length >= max) && (
          <span data-testid="log-capped">
            {" "}
            · showing the last {max.toLocaleString()} lines
            {view.dropped > 0 ? ` (${view.dropped.toLocaleString()} earlier ones dropped)` : ""};
            download the log for all of it
          </span>
        )}
      </div>
    </>
  );
}

function emptyText(state: string, search?: string): string {
  if (state === "error") return "";
  if (search) return state === "ended" ? `No line matches “${search}”.` : "No match yet.";
  if (state === "ended") return "The log is empty.";
  return "No output yet.";
}
