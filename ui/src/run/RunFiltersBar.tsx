// The runs list's filters: pipeline, status, trigger and a date range. Their values live in
// the URL (the /runs route's search params), so a filtered list can be shared or reloaded.
import { usePipelines } from "../api/pipelines";
import type { RunsSearch } from "../router";

const STATUSES = ["pending", "running", "succeeded", "failed", "stopped"];
const TRIGGERS = ["manual", "schedule", "backfill", "debug"];

export interface RunFiltersBarProps {
  search: RunsSearch;
  onChange: (next: RunsSearch) => void;
}

export function RunFiltersBar({ search, onChange }: RunFiltersBarProps) {
  const pipelines = usePipelines();
  const names = (pipelines.data ?? []).map((p) => p.name);
  if (search.pipeline && !names.includes(search.pipeline)) names.unshift(search.pipeline);
  const set = (field: keyof RunsSearch, value: string) =>
    onChange({ ...search, [field]: value || undefined });
  const any = Object.values(search).some(Boolean);
  return (
    <div className="filters" role="search" aria-label="filter the runs">
      <label>
        Pipeline
        <select
          aria-label="pipeline"
          value={search.pipeline ?? ""}
          onChange={(e) => set("pipeline", e.target.value)}
        >
          <option value="">all pipelines</option>
          {names.map((name) => (
            <option key={name} value={name}>
              {name}
            </option>
          ))}
        </select>
      </label>
      <label>
        Status
        <select
          aria-label="status"
          value={search.status ?? ""}
          onChange={(e) => set("status", e.target.value)}
        >
          <option value="">any status</option>
          {STATUSES.map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </select>
      </label>
      <label>
        Trigger
        <select
          aria-label="trigger"
          value={search.trigger ?? ""}
          onChange={(e) => set("trigger", e.target.value)}
        >
          <option value="">any but debug</option>
          {TRIGGERS.map((t) => (
            <option key={t} value={t}>
              {t}
            </option>
          ))}
        </select>
      </label>
      <label>
        From
        <input
          type="date"
          aria-label="created from"
          value={search.since ?? ""}
          max={search.until}
          onChange={(e) => set("since", e.target.value)}
        />
      </label>
      <label>
        To
        <input
          type="date"
          aria-label="created until"
          value={search.until ?? ""}
          min={search.since}
          onChange={(e) => set("until", e.target.value)}
        />
      </label>
      {any && (
        <button type="button" className="ghost" onClick={() => onChange({})}>
          Clear filters
        </button>
      )}
    </div>
  );
}

/** A day (YYYY-MM-DD, local) as the instant it starts, plus `days`; undefined when unset. */
export function dayStart(day: string | undefined, days = 0): string | undefined {
  if (!day || !/^\d{4}-\d{2}-\d{2}$/.test(day)) return undefined;
  const date = new Date(`${day}T00:00:00`);
  if (Number.isNaN(date.getTime())) return undefined;
  date.setDate(date.getDate() + days);
  return date.toISOString();
}
