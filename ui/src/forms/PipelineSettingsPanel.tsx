// The pipeline's own settings (every top-level field but its tasks): description, params,
// env (plain values or secrets), parallelism and timeout, webhook alerts, and the schedule
// with its next run times. Errors are keyed by top-level path ("schedule.cron", "params.lr").
import { useId } from "react";

import type { FieldErrors, PipelineJson } from "../editor/types";
import { EnvRows } from "./EnvRows";
import { readDuration, readNumber } from "./checks";
import { errorAt, errorsUnder, hasErrorUnder, leftoverErrors } from "./errors";
import { CheckedInput, plainText, withField } from "./inputs";
import { LeftoverErrors } from "./LeftoverErrors";
import { AlertsFields } from "./pipeline/AlertsFields";
import { ParamsRows } from "./pipeline/ParamsRows";
import { ScheduleFields } from "./pipeline/ScheduleFields";
import { Section } from "./Section";
import { useSecretNames } from "./useSecretNames";
import "./forms.css";

export interface PipelineSettingsPanelProps {
  pipeline: PipelineJson;
  errors: FieldErrors;
  onChange: (next: PipelineJson) => void;
  /** The next run times of the saved schedule (UTC, ISO 8601), when known. */
  schedulePreview?: string[];
}

const SHOWN = ["name", "description", "params", "env", "parallelism", "timeout", "alerts", "schedule", "tasks", "on_exit"];

function usesSecrets(env: Record<string, unknown> | undefined): boolean {
  return Object.values(env ?? {}).some((v) => Boolean(v && typeof v === "object" && "from_secret" in v));
}

function count(n: number, what: string): string {
  return n === 0 ? "none" : `${n} ${what}${n > 1 ? "s" : ""}`;
}

export function PipelineSettingsPanel(props: PipelineSettingsPanelProps) {
  const { pipeline, errors, onChange } = props;
  const id = useId();
  const secretNames = useSecretNames(usesSecrets(pipeline.env));
  const set = (key: string, value: unknown) => onChange(withField(pipeline, key, value));
  const params = Object.keys(pipeline.params ?? {}).length;
  const env = Object.keys(pipeline.env ?? {}).length;
  const alerts = (pipeline.alerts ?? []).length;
  return (
    <div className="cf-panel" data-testid="pipeline-settings">
      <LeftoverErrors items={leftoverErrors(errors, SHOWN)} />
      <Section title="Pipeline" invalid={hasErrorUnder(errors, ["description", "parallelism", "timeout"])}>
        <CheckedInput
          id={`${id}-description`}
          label="description"
          testId="pipeline-description"
          multiline
          value={pipeline.description}
          read={plainText}
          placeholder="What this pipeline does"
          error={errorAt(errors, "description")}
          onChange={(v) => set("description", v)}
        />
        <div className="cf-grid-2">
          <CheckedInput
            id={`${id}-parallelism`}
            label="parallelism"
            testId="pipeline-parallelism"
            value={pipeline.parallelism}
            read={(text) => readNumber(text, { integer: true, minimum: 1, maximum: 10000 })}
            placeholder="16"
            help="tasks running at once"
            error={errorAt(errors, "parallelism")}
            onChange={(v) => set("parallelism", v)}
          />
          <CheckedInput
            id={`${id}-timeout`}
            label="timeout"
            testId="pipeline-timeout"
            value={pipeline.timeout}
            read={readDuration}
            placeholder="none"
            help="of the whole run: 30m, 2h"
            error={errorAt(errors, "timeout")}
            onChange={(v) => set("timeout", v)}
          />
        </div>
      </Section>
      <Section title="Params" invalid={hasErrorUnder(errors, ["params"])} summary={count(params, "param")}>
        <ParamsRows value={pipeline.params} errors={errorsUnder(errors, "params")} onChange={(v) => set("params", v)} />
      </Section>
      <Section
        title="Environment"
        defaultOpen={env > 0 || hasErrorUnder(errors, ["env"])}
        invalid={hasErrorUnder(errors, ["env"])}
        summary={count(env, "variable")}
      >
        <EnvRows
          label="env"
          testId="pipeline-env"
          secrets
          secretNames={secretNames}
          listId={`${id}-secrets`}
          value={pipeline.env}
          errors={errorsUnder(errors, "env")}
          onChange={(v) => set("env", v)}
        />
      </Section>
      <Section title="Schedule" testId="pipeline-schedule" invalid={hasErrorUnder(errors, ["schedule"])} summary={pipeline.schedule ? pipeline.schedule.cron : "off"}>
        <ScheduleFields
          schedule={pipeline.schedule}
          errors={errors}
          preview={props.schedulePreview}
          onChange={(schedule) => set("schedule", schedule)}
        />
      </Section>
      <Section
        title="Alerts"
        defaultOpen={alerts > 0 || hasErrorUnder(errors, ["alerts"])}
        invalid={hasErrorUnder(errors, ["alerts"])}
        summary={count(alerts, "webhook")}
      >
        <AlertsFields alerts={pipeline.alerts} errors={errors} onChange={(v) => set("alerts", v)} />
      </Section>
    </div>
  );
}
