// The settings of the selected task: the form generated from its template's parameter schema
// (TaskSettingsPanel, src/forms), with the server's and the node's own problems.
import { useMemo } from "react";
import { useShallow } from "zustand/react/shallow";

import { useTemplate, useTemplateSchema } from "../../api/templates";
import { TaskSettingsPanel } from "../../forms/TaskSettingsPanel";
import { useMeta } from "../meta";
import { useEditor } from "../store";
import { mergeErrors, taskValidity } from "./validity";

export function parseTemplateRef(ref: string | undefined): { name?: string; version?: number } {
  if (!ref) return {};
  const [name, version] = ref.split("@");
  return { name, version: version ? Number(version) : undefined };
}

export function TaskPanel({ id }: { id: string }) {
  const index = useEditor((s) => s.pipeline.tasks.findIndex((t) => t.name === id));
  const task = useEditor((s) => s.pipeline.tasks[index]);
  const taskNames = useEditor(useShallow((s) => s.pipeline.tasks.map((t) => t.name)));
  const updateTask = useEditor((s) => s.updateTask);
  const server = useMeta((s) => s.errors.byTask[id]);
  const ref = parseTemplateRef(task?.template);
  const template = useTemplate(ref.name);
  const schema = useTemplateSchema(ref.name, ref.version);
  const errors = useMemo(
    () => (task ? mergeErrors(taskValidity(task), server) : {}),
    [task, server],
  );
  if (!task) return null;
  return (
    <div className="side-panel-form">
      <TaskSettingsPanel
        key={index /* a rename keeps the form (and the focus); another task gets a fresh one */}
        task={task}
        template={template.data}
        schema={schema.data}
        errors={errors}
        onChange={(next) => updateTask(task.name, next)}
        taskNames={taskNames}
      />
    </div>
  );
}
