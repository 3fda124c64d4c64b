// /schedules: the project's applied schedules (cron in words, time zone, next run, on/off)
// and, per pipeline, its schedule records: each execution date, its status and its run.
import { Link } from "@tanstack/react-router";
import cronstrue from "cronstrue";
import { useState } from "react";

import {
  useSchedulePaused,
  useScheduleRecords,
  useSchedules,
  type ScheduleInfo,
} from "../api/schedules";
import { Status } from "../components/Status";
import { formatZoned } from "../run/format";
import "../run/run.css";

function cronWords(cron: string): string {
  try {
    return cronstrue.toString(cron, { use24HourTimeFormat: true, verbose: false });
  } catch {
    return "";
  }
}

export function SchedulesPage() {
  const schedules = useSchedules();
  const [open, setOpen] = useState<string | null>(null);
  return (
    <div>
      <div className="toolbar">
        <h1>Schedules</h1>
        <span className="hint">
          A pipeline&apos;s schedule shows here once it is switched on (pipelines list or editor).
        </span>
      </div>
      {schedules.isError && <p className="error-box">{schedules.error.message}</p>}
      {schedules.isPending && <p className="muted">Loading schedules…</p>}
      {schedules.data?.length === 0 && (
        <div className="empty card">
          <strong>No schedule yet</strong>
          Add a schedule (a cron) in a pipeline&apos;s settings and switch it on; its runs then
          start on their own.
        </div>
      )}
      {schedules.data && schedules.data.length > 0 && (
        <table className="list" data-testid="schedules">
          <thead>
            <tr>
              <th>Pipeline</th>
              <th>Schedule</th>
              <th>Time zone</th>
              <th>Next run (its time zone)</th>
              <th>On</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {schedules.data.map((s) => (
              <ScheduleRow
                key={s.pipeline}
                schedule={s}
                open={open === s.pipeline}
                onToggleRecords={() => setOpen(open === s.pipeline ? null : s.pipeline)}
              />
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

function ScheduleRow({
  schedule,
  open,
  onToggleRecords,
}: {
  schedule: ScheduleInfo;
  open: boolean;
  onToggleRecords: () => void;
}) {
  const switcher = useSchedulePaused();
  const s = schedule;
  // While the switch is on its way, show where it is going (as the pipelines list does).
  const [wanted, setWanted] = useState<boolean | null>(null);
  const paused = wanted ?? s.paused;
  const flip = (on: boolean) => {
    setWanted(!on);
    switcher.mutate({ pipeline: s.pipeline, paused: !on }, { onSettled: () => setWanted(null) });
  };
  return (
    <>
      <tr data-testid={`schedule-${s.pipeline}`}>
        <td>
          <Link to="/pipelines/$name" params={{ name: s.pipeline }}>
            {s.pipeline}
          </Link>
        </td>
        <td>
          <code>{s.cron}</code> <span className="hint">{cronWords(s.cron)}</span>
          {s.catchup && <span className="badge">catchup</span>}
        </td>
        <td>{s.timezone}</td>
        <td>{paused ? <span className="muted">paused</span> : formatZoned(s.next, s.timezone)}</td>
        <td>
          <label className="inline">
            <input
              type="checkbox"
              checked={!paused}
              disabled={switcher.isPending}
              aria-label={`schedule of ${s.pipeline} on`}
              onChange={(e) => flip(e.target.checked)}
            />
            <span className={`badge${paused ? "" : " on"}`}>{paused ? "off" : "on"}</span>
          </label>
          {switcher.error && <p className="error">{switcher.error.message}</p>}
        </td>
        <td>
          <button type="button" className="ghost" onClick={onToggleRecords} aria-expanded={open}>
            {open ? "Hide records" : "Records"}
          </button>
        </td>
      </tr>
      {open && (
        <tr>
          <td colSpan={6} className="records-cell">
            <Records pipeline={s.pipeline} zone={s.timezone} />
          </td>
        </tr>
      )}
    </>
  );
}

function Records({ pipeline, zone }: { pipeline: string; zone: string }) {
  const records = useScheduleRecords(pipeline);
  if (records.isPending) return <p className="muted">Loading records…</p>;
  if (records.isError) return <p className="error">{records.error.message}</p>;
  if (records.data.length === 0) {
    return <p className="hint">No record yet: the first one is written at the next run time.</p>;
  }
  return (
    <table className="list compact" data-testid={`records-${pipeline}`}>
      <thead>
        <tr>
          <th>Execution date ({zone})</th>
          <th>Record</th>
          <th>Trigger</th>
          <th>Run</th>
          <th>Run status</th>
          <th>Message</th>
        </tr>
      </thead>
      <tbody>
        {records.data.map((r) => (
          <tr key={`${r.execution_date}/${r.trigger}`}>
            <td>{formatZoned(r.execution_date, zone)}</td>
            <td>
              <span className="badge">{r.status}</span>
            </td>
            <td>{r.trigger}</td>
            <td>
              {r.run_id ? (
                <Link to="/runs/$runId" params={{ runId: r.run_id }} className="mono">
                  {r.run_id}
                </Link>
              ) : (
                "—"
              )}
            </td>
            <td>{r.run_status ? <Status status={r.run_status} /> : "—"}</td>
            <td className="hint">{r.message ?? ""}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
