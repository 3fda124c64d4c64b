// A pipeline's schedule in the list: its cron in words, the time zone, and a switch that
// applies and enables it (POST …/schedule/enable) or pauses it (…/schedule/disable).
import cronstrue from "cronstrue";

import { useCanEdit, useScheduleSwitch, type PipelineRow } from "../../api/pipelineList";

export function describeCron(cron: string): string {
  try {
    return cronstrue.toString(cron, { use24HourTimeFormat: true, verbose: false });
  } catch {
    return cron;
  }
}

export function ScheduleCell({ pipeline }: { pipeline: PipelineRow }) {
  const toggle = useScheduleSwitch();
  const canEdit = useCanEdit();
  const schedule = pipeline.schedule;
  if (schedule === null) return <span className="muted">—</span>;
  const pending = toggle.isPending ? toggle.variables?.enabled : undefined;
  const on = pending ?? schedule.enabled;
  return (
    <div className="schedule-cell">
      <button
        type="button"
        role="switch"
        aria-checked={on}
        aria-label={`Schedule of ${pipeline.name}`}
        className={`switch${on ? " on" : ""}`}
        data-testid={`schedule-switch-${pipeline.name}`}
        disabled={!canEdit || toggle.isPending}
        title={canEdit ? undefined : "switching a schedule needs the developer role"}
        onClick={() => toggle.mutate({ name: pipeline.name, enabled: !on })}
      >
        <span className="knob" />
      </button>
      <div className="schedule-text">
        <span title={`${schedule.cron} (${schedule.timezone})`}>{describeCron(schedule.cron)}</span>
        <span className="hint">
          <code>{schedule.cron}</code> · {schedule.timezone}
          {on ? "" : " · paused"}
        </span>
        {toggle.error && (
          <span className="error" role="alert">
            {toggle.error.message}
          </span>
        )}
      </div>
    </div>
  );
}
