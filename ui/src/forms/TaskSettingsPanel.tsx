// The settings of one task (the editor's side panel): its name and description, its
// template's parameters as a generated form (or the command of a task without template),
// resources, retries and timeout, skip and trigger, env. Errors are keyed by path under the
// task ("args.lr", "resources.cpu", "name").
import { useId } from "react";

import type { ArgsSchema, TemplateOut } from "../api/templates";
import type { FieldErrors, TaskJson } from "../editor/types";
import { EnvRows } from "./EnvRows";
import { errorAt, errorsUnder, hasErrorUnder, leftoverErrors } from "./errors";
import { CheckedInput, plainText, withField } from "./inputs";
import { LeftoverErrors } from "./LeftoverErrors";
import { ParamForm } from "./ParamForm";
import { Section } from "./Section";
import { CommandField } from "./task/CommandField";
import { OutputsField } from "./task/OutputsField";
import { ResourcesFields } from "./task/ResourcesFields";
import { RunPolicyFields } from "./task/RunPolicyFields";
import { TaskNameField } from "./task/TaskNameField";
import "./forms.css";

export interface TaskSettingsPanelProps {
  task: TaskJson;
  template: TemplateOut | undefined;
  schema: ArgsSchema | undefined;
  errors: FieldErrors;
  onChange: (next: TaskJson) => void;
  taskNames: string[];
}

const SHOWN = ["name", "description", "command", "args", "resources", "retries", "retry_delay", "timeout", "trigger", "skip", "env", "outputs"];

function TemplateLine({ task, template }: { task: TaskJson; template: TemplateOut | undefined }) {
  if (!task.template) return null;
  return (
    <div className="cf-template" data-testid="task-template">
      <span className="badge">{template?.category ?? "template"}</span>
      <code>{template ? `${template.name}@${template.version}` : task.template}</code>
      {template?.description && <span className="hint">{template.description}</span>}
    </div>
  );
}

function Parameters({ task, schema, errors, onChange }: Pick<TaskSettingsPanelProps, "task" | "schema" | "errors" | "onChange">) {
  if (!schema) return <p className="hint cf-empty">Loading the template's parameters…</p>;
  return (
    <ParamForm
      schema={schema}
      value={task.args ?? {}}
      errors={errorsUnder(errors, "args")}
      onChange={(args) => onChange(withField(task, "args", Object.keys(args).length ? args : undefined))}
    />
  );
}

export function TaskSettingsPanel(props: TaskSettingsPanelProps) {
  const { task, errors, onChange } = props;
  const id = useId();
  const set = (key: string, value: unknown) => onChange(withField(task, key, value));
  const resourceCount = Object.keys(task.resources ?? {}).length;
  const envCount = Object.keys(task.env ?? {}).length;
  const outputCount = task.outputs?.length ?? 0;
  return (
    <div className="cf-panel" data-testid="task-settings">
      <LeftoverErrors items={leftoverErrors(errors, SHOWN)} />
      <Section title="Task" invalid={hasErrorUnder(errors, ["name", "description"])}>
        <TemplateLine task={task} template={props.template} />
        <TaskNameField
          id={`${id}-name`}
          name={task.name}
          taskNames={props.taskNames}
          error={errorAt(errors, "name")}
          onChange={(name) => set("name", name)}
        />
        <CheckedInput
          id={`${id}-description`}
          label="description"
          testId="task-description"
          multiline
          value={task.description}
          read={plainText}
          placeholder="What this task does"
          error={errorAt(errors, "description")}
          onChange={(v) => set("description", v)}
        />
      </Section>
      {task.template ? (
        <Section title="Parameters" testId="task-parameters" invalid={hasErrorUnder(errors, ["args"])}>
          <Parameters {...props} />
        </Section>
      ) : (
        <Section title="Command" invalid={hasErrorUnder(errors, ["command"])}>
          <CommandField
            id={`${id}-command`}
            command={task.command}
            error={errorAt(errors, "command")}
            onChange={(command) => set("command", command)}
          />
        </Section>
      )}
      <Section
        title="Resources"
        invalid={hasErrorUnder(errors, ["resources"])}
        summary={resourceCount ? `${resourceCount} set` : "template defaults"}
      >
        <ResourcesFields
          resources={task.resources}
          template={props.template}
          errors={errors}
          onChange={(resources) => set("resources", resources)}
        />
      </Section>
      <Section title="Run policy" invalid={hasErrorUnder(errors, ["retries", "retry_delay", "timeout", "trigger", "skip"])}>
        <RunPolicyFields task={task} errors={errors} onChange={onChange} />
      </Section>
      <Section
        title="Outputs"
        defaultOpen={outputCount > 0 || hasErrorUnder(errors, ["outputs"])}
        invalid={hasErrorUnder(errors, ["outputs"])}
        summary={outputCount ? `${outputCount} declared` : "none"}
      >
        <OutputsField
          id={`${id}-outputs`}
          outputs={task.outputs}
          error={errorAt(errors, "outputs")}
          onChange={(outputs) => set("outputs", outputs)}
        />
      </Section>
      <Section
        title="Environment"
        defaultOpen={envCount > 0 || hasErrorUnder(errors, ["env"])}
        invalid={hasErrorUnder(errors, ["env"])}
        summary={envCount ? `${envCount} variable${envCount > 1 ? "s" : ""}` : "none"}
      >
        <EnvRows
          label="env"
          testId="task-env"
          value={task.env}
          errors={errorsUnder(errors, "env")}
          onChange={(env) => set("env", env)}
        />
      </Section>
    </div>
  );
}
