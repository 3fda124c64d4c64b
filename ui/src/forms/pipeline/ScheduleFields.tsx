// The pipeline's schedule (spec/model.py ScheduleSpec): on or off, the cron with its meaning
// in words, the time zone, the start, catchup, depends_on_past, max_active_runs,
// expired_limit, and the next run times the server computed.
import { useId, useState } from "react";

import type { FieldErrors, ScheduleJson } from "../../editor/types";
import { readNumber } from "../checks";
import { checkStart, describeCron, isTimeZone, timeZones } from "../cron";
import { errorAt } from "../errors";
import { Checkbox, CheckedInput, withField } from "../inputs";

const FRESH: ScheduleJson = { cron: "0 0 * * *", timezone: "UTC" };

function readCron(text: string) {
  return { value: text, error: describeCron(text).error };
}

function readZone(text: string) {
  const zone = text.trim();
  if (!zone) return {};
  return {
    value: zone,
    error: isTimeZone(zone) ? undefined : `unknown time zone ${JSON.stringify(zone)}: use an IANA name such as UTC or Asia/Shanghai`,
  };
}

export function ScheduleFields(props: {
  schedule: ScheduleJson | null | undefined;
  errors: FieldErrors;
  onChange: (next: ScheduleJson | undefined) => void;
  preview?: string[];
}) {
  const id = useId();
  const [kept, setKept] = useState<ScheduleJson>(FRESH);
  const { schedule, errors } = props;
  const toggle = (on: boolean) => {
    if (on) return props.onChange(kept);
    if (schedule) setKept(schedule);
    props.onChange(undefined);
  };
  const on = Boolean(schedule);
  const set = (key: string, value: unknown) => schedule && props.onChange(withField(schedule, key, value));
  const cron = describeCron(schedule?.cron ?? "");
  return (
    <>
      <Checkbox id={`${id}-on`} label="run on a schedule" testId="schedule-enabled" checked={on} onChange={toggle} />
      {schedule && (
        <>
          <CheckedInput
            id={`${id}-cron`}
            label="cron"
            testId="schedule-cron"
            required
            value={schedule.cron}
            read={readCron}
            placeholder="0 2 * * *"
            error={errorAt(errors, "schedule.cron")}
            help="minute hour day month weekday, or @hourly, @daily, @weekly, @monthly, @yearly"
            onChange={(v) => set("cron", v ?? "")}
          />
          {cron.description && (
            <p className="cf-cron-text" data-testid="schedule-cron-text">
              {cron.description} ({schedule.timezone ?? "UTC"})
            </p>
          )}
          <div className="cf-grid-2">
            <CheckedInput
              id={`${id}-tz`}
              label="timezone"
              testId="schedule-timezone"
              value={schedule.timezone}
              read={readZone}
              list={`${id}-zones`}
              placeholder="UTC"
              error={errorAt(errors, "schedule.timezone")}
              onChange={(v) => set("timezone", v)}
            />
            <CheckedInput
              id={`${id}-start`}
              label="start"
              testId="schedule-start"
              value={schedule.start}
              read={(text) => ({ value: text.trim() || undefined, error: checkStart(text) })}
              placeholder="2026-01-01 00:00:00"
              error={errorAt(errors, "schedule.start")}
              onChange={(v) => set("start", v)}
            />
            <CheckedInput
              id={`${id}-max-active`}
              label="max_active_runs"
              testId="schedule-max-active-runs"
              value={schedule.max_active_runs}
              read={(text) => readNumber(text, { integer: true, minimum: 1 })}
              placeholder="1"
              error={errorAt(errors, "schedule.max_active_runs")}
              onChange={(v) => set("max_active_runs", v)}
            />
            <CheckedInput
              id={`${id}-expired`}
              label="expired_limit"
              testId="schedule-expired-limit"
              value={schedule.expired_limit}
              read={(text) => readNumber(text, { integer: true, minimum: 0 })}
              placeholder="0"
              help="missed runs to keep (0: all)"
              error={errorAt(errors, "schedule.expired_limit")}
              onChange={(v) => set("expired_limit", v)}
            />
          </div>
          <datalist id={`${id}-zones`}>
            {timeZones().map((zone) => (
              <option key={zone} value={zone} />
            ))}
          </datalist>
          <Checkbox
            id={`${id}-catchup`}
            label="catchup"
            testId="schedule-catchup"
            checked={schedule.catchup === true}
            help="Run the intervals missed since the start (or while the server was down)."
            error={errorAt(errors, "schedule.catchup")}
            onChange={(v) => set("catchup", v || undefined)}
          />
          <Checkbox
            id={`${id}-dop`}
            label="depends_on_past"
            testId="schedule-depends-on-past"
            checked={schedule.depends_on_past === true}
            help="Wait for the previous scheduled run to succeed."
            error={errorAt(errors, "schedule.depends_on_past")}
            onChange={(v) => set("depends_on_past", v || undefined)}
          />
          <NextRuns times={props.preview} timezone={schedule.timezone ?? "UTC"} />
        </>
      )}
    </>
  );
}

/** A UTC ISO time as wall-clock time in the schedule's zone ("2026-12-01 02:00:00"). */
export function inZone(iso: string, timezone: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime()) || !isTimeZone(timezone)) return iso;
  const format = new Intl.DateTimeFormat("sv-SE", {
    timeZone: timezone,
    year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false,
  });
  return format.format(date);
}

function NextRuns({ times, timezone }: { times?: string[]; timezone: string }) {
  return (
    <div className="cf-field" data-testid="schedule-next-runs">
      <span className="cf-field-head">
        <strong>Next runs</strong>
      </span>
      {times && times.length > 0 ? (
        <ol className="cf-next-runs">
          {times.map((t) => (
            <li key={t} title={`${t} (UTC)`}>
              {inZone(t, timezone)} <span className="muted">{timezone}</span>
            </li>
          ))}
        </ol>
      ) : (
        <p className="hint cf-help">Save the pipeline to see its next run times.</p>
      )}
    </div>
  );
}
