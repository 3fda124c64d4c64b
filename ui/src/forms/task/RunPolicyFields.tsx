// How a task is run: retries and their delay, the timeout, skip, and the trigger rule
// (spec/model.py Trigger).
import { useId } from "react";

import type { FieldErrors, TaskJson } from "../../editor/types";
import { readDuration, readNumber } from "../checks";
import { errorAt } from "../errors";
import { Checkbox, CheckedInput, Select, withField } from "../inputs";

export const TRIGGERS: Record<string, string> = {
  all_success: "Runs when every upstream task succeeded or was skipped.",
  all_done: "Runs when every upstream task finished, whatever the outcome.",
  one_failed: "Runs when at least one upstream task failed: for clean-up and alerts.",
};

export function RunPolicyFields(props: { task: TaskJson; errors: FieldErrors; onChange: (next: TaskJson) => void }) {
  const id = useId();
  const { task, errors } = props;
  const set = (key: string, value: unknown) => props.onChange(withField(task, key, value));
  return (
    <>
      <div className="cf-grid">
        <CheckedInput
          id={`${id}-retries`}
          label="retries"
          testId="task-retries"
          value={task.retries}
          read={(text) => readNumber(text, { integer: true, minimum: 0, maximum: 100 })}
          placeholder="0"
          error={errorAt(errors, "retries")}
          onChange={(v) => set("retries", v)}
        />
        <CheckedInput
          id={`${id}-retry-delay`}
          label="retry_delay"
          testId="task-retry-delay"
          value={task.retry_delay}
          read={readDuration}
          placeholder="0s"
          error={errorAt(errors, "retry_delay")}
          onChange={(v) => set("retry_delay", v)}
        />
        <CheckedInput
          id={`${id}-timeout`}
          label="timeout"
          testId="task-timeout"
          value={task.timeout}
          read={readDuration}
          placeholder="none"
          error={errorAt(errors, "timeout")}
          onChange={(v) => set("timeout", v)}
        />
      </div>
      <p className="hint cf-help">Durations: seconds, or 30s, 5m, 2h, 1d.</p>
      <Select
        id={`${id}-trigger`}
        label="trigger"
        testId="task-trigger"
        value={task.trigger ?? "all_success"}
        options={Object.keys(TRIGGERS).map((t): [string, string] => [t, t])}
        help={TRIGGERS[task.trigger ?? "all_success"]}
        error={errorAt(errors, "trigger")}
        onChange={(v) => set("trigger", v === "all_success" ? undefined : v)}
      />
      <Checkbox
        id={`${id}-skip`}
        label="skip"
        testId="task-skip"
        checked={task.skip === true}
        help="Mark the task skipped without running it."
        error={errorAt(errors, "skip")}
        onChange={(v) => set("skip", v ? true : undefined)}
      />
    </>
  );
}
