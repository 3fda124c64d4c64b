// A task on the canvas: its name, its template (in its category's colour) or "command", a red
// mark with the number of problems the server found, and the live status of the latest run.
import { Handle, type NodeProps, Position } from "@xyflow/react";
import { memo } from "react";

import { Status } from "../../components/Status";
import { categoryColor } from "../categories";
import type { TaskNode as TaskNodeType } from "../graph";

function TaskNodeView({ data, selected }: NodeProps<TaskNodeType>) {
  const { task, errorCount, messages, status, category } = data;
  const colour = task.template ? categoryColor(category) : categoryColor(undefined);
  const kind = task.template ?? "command";
  return (
    <div
      className={`task-node${selected ? " selected" : ""}${errorCount ? " invalid" : ""}`}
      data-testid={`task-node-${task.name}`}
      data-status={status}
      style={{ ["--cat" as string]: colour }}
      title={messages.length ? messages.join("\n") : undefined}
    >
      <Handle type="target" position={Position.Left} aria-label={`${task.name} input`} />
      <div className="task-node-name">{task.name}</div>
      <div className="task-node-kind">
        <span className="task-node-dot" />
        {kind}
        {task.skip ? <span className="badge">skip</span> : null}
      </div>
      {errorCount > 0 ? (
        <span
          className="task-node-errors"
          data-testid={`task-errors-${task.name}`}
          aria-label={`${errorCount} problem${errorCount > 1 ? "s" : ""}`}
        >
          {errorCount}
        </span>
      ) : null}
      {status ? (
        <div className="task-node-status">
          <Status status={status} />
        </div>
      ) : null}
      <Handle type="source" position={Position.Right} aria-label={`${task.name} output`} />
    </div>
  );
}

export const TaskNode = memo(TaskNodeView);
