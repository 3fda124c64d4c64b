// A task on the run's graph: its name, its live status as a colour (--status-<status> in
// styles.css) and a word, and how many attempts it took. Read-only: the handles only anchor
// the edges.
import { Handle, Position, type Node, type NodeProps } from "@xyflow/react";
import { memo } from "react";

export interface RunTaskData extends Record<string, unknown> {
  name: string;
  status: string;
  attempts: number;
  duration: string;
  chosen: boolean;
}
export type RunTaskNodeType = Node<RunTaskData, "runTask">;

function RunTaskNodeView({ data }: NodeProps<RunTaskNodeType>) {
  const { name, status, attempts, duration, chosen } = data;
  return (
    <div
      className={`run-node${chosen ? " chosen" : ""}`}
      data-testid={`run-node-${name}`}
      data-status={status}
      style={{ ["--node-status" as string]: `var(--status-${status}, var(--status-pending))` }}
      title={`${name}: ${status.replace("_", " ")}`}
    >
      <Handle type="target" position={Position.Left} isConnectable={false} />
      <div className="run-node-name">{name}</div>
      <div className="run-node-meta">
        <span className={`run-node-status${status === "running" ? " pulse" : ""}`}>
          {status.replace("_", " ")}
        </span>
        <span className="muted">
          {[duration, attempts > 1 ? `${attempts} attempts` : ""].filter(Boolean).join(" · ")}
        </span>
      </div>
      <Handle type="source" position={Position.Right} isConnectable={false} />
    </div>
  );
}

export const RunTaskNode = memo(RunTaskNodeView);

/** The run graph's node types (xyflow's registry). */
export const runNodeTypes = { runTask: RunTaskNode };
