// /runs: the project's runs, newest first, filtered by pipeline, status, trigger and dates
// (kept in the URL), a page at a time ("Load more"), and live: a new run or a change of
// status shows without a reload. A run with a task waiting for admission says why under its
// status; as no event carries that reason, the list is read again while a run is active.
import { Link, useNavigate, useSearch } from "@tanstack/react-router";
import { useEffect } from "react";

import { useEvents } from "../api/events";
import { useRuns, type RunRow } from "../api/runs";
import { Status } from "../components/Status";
import type { RunsSearch } from "../router";
import { formatDuration, formatTime, RUN_ENDED, secondsBetween, useNow } from "../run/format";
import { dayStart, RunFiltersBar } from "../run/RunFiltersBar";
import "../run/run.css";

/** How often the list is read again while a run is active (for its waiting reason). */
export const WAITING_EVERY_MS = 5_000;

export function RunsPage() {
  const search = useSearch({ strict: false }) as RunsSearch;
  const navigate = useNavigate();
  useEvents({});
  const runs = useRuns({
    pipeline: search.pipeline,
    status: search.status,
    trigger: search.trigger,
    since: dayStart(search.since),
    until: dayStart(search.until, 1),
  });
  const rows = runs.data?.pages.flatMap((page) => page.items) ?? [];
  const active = rows.some((r) => !RUN_ENDED.has(r.status));
  const now = useNow(active);
  const { refetch } = runs;
  useEffect(() => {
    if (!active) return;
    const timer = setInterval(() => void refetch(), WAITING_EVERY_MS);
    return () => clearInterval(timer);
  }, [active, refetch]);
  const filtered = Object.values(search).some(Boolean);

  return (
    <div>
      <div className="toolbar">
        <h1>Runs</h1>
        <span className="live-dot" title="the list follows the runs as they change">
          live
        </span>
      </div>
      <RunFiltersBar
        search={search}
        onChange={(next) => void navigate({ to: "/runs", search: next })}
      />
      {runs.isError && <p className="error-box">{runs.error.message}</p>}
      {runs.isPending && <p className="muted">Loading runs…</p>}
      {runs.isSuccess && rows.length === 0 && (
        <div className="empty card" data-testid="runs-empty">
          <strong>{filtered ? "No run matches these filters" : "No runs yet"}</strong>
          {filtered
            ? "Change or clear the filters to see more."
            : "Start one from a pipeline (Run in the editor or the pipelines list)."}
        </div>
      )}
      {rows.length > 0 && (
        <table className="list" data-testid="runs">
          <thead>
            <tr>
              <th>Status</th>
              <th>Run</th>
              <th>Pipeline</th>
              <th>Trigger</th>
              <th>Created</th>
              <th>Duration</th>
              <th>Message</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => (
              <RunLine key={row.id} row={row} now={now} />
            ))}
          </tbody>
        </table>
      )}
      {runs.hasNextPage && (
        <div className="load-more">
          <button
            type="button"
            onClick={() => void runs.fetchNextPage()}
            disabled={runs.isFetchingNextPage}
          >
            {runs.isFetchingNextPage ? "Loading…" : "Load more"}
          </button>
        </div>
      )}
    </div>
  );
}

function RunLine({ row, now }: { row: RunRow; now: number }) {
  return (
    <tr data-testid={`run-row-${row.id}`}>
      <td>
        <Status status={row.status} />
        {row.waiting && !RUN_ENDED.has(row.status) && (
          <div className="run-waiting ellipsis" title={row.waiting} data-testid="run-waiting">
            {row.waiting}
          </div>
        )}
      </td>
      <td>
        <Link to="/runs/$runId" params={{ runId: row.id }} className="mono">
          {row.id}
        </Link>
      </td>
      <td>
        <Link to="/pipelines/$name" params={{ name: row.pipeline }}>
          {row.pipeline}
        </Link>
        {row.pipeline_version ? <span className="hint"> v{row.pipeline_version}</span> : null}
      </td>
      <td>
        <span className="badge">{row.trigger}</span>
      </td>
      <td>{formatTime(row.created_at)}</td>
      <td>{formatDuration(secondsBetween(row.started_at, row.finished_at, now))}</td>
      <td className="hint ellipsis" title={row.message ?? undefined}>
        {row.message ?? ""}
      </td>
    </tr>
  );
}
