// The run's DAG, read-only: laid out once per shape by ELK (graph/layout.ts useLayout), with
// each task's live status merged into its node's data, so a status change never lays the
// graph out again. Clicking a task selects it.
import {
  Background,
  Controls,
  getViewportForBounds,
  ReactFlow,
  useReactFlow,
  type Edge,
  type Rect,
} from "@xyflow/react";
import { useEffect, useMemo, useRef, type RefObject } from "react";

import type { RunDetail } from "../api/runs";
import type { PipelineJson } from "../editor/types";
import { NODE_HEIGHT, NODE_WIDTH, useLayout, type LayoutEdge } from "../graph/layout";
import { formatDuration, secondsBetween } from "./format";
import { runNodeTypes, type RunTaskNodeType } from "./RunTaskNode";

export interface RunGraphProps {
  run: RunDetail;
  /** The pipeline version the run ran (its dependencies); tasks stand alone without it. */
  spec?: PipelineJson;
  selected?: string | null;
  onSelect?: (task: string | null) => void;
}

/** The graph's edges: each task's dependencies among the run's tasks. */
export function runEdges(names: string[], spec: PipelineJson | undefined): LayoutEdge[] {
  const known = new Set(names);
  const edges: LayoutEdge[] = [];
  for (const task of spec?.tasks ?? []) {
    for (const upstream of task.depends ?? []) {
      if (known.has(task.name) && known.has(upstream)) {
        edges.push({ source: upstream, target: task.name });
      }
    }
  }
  return edges;
}

export function RunGraph({ run, spec, selected = null, onSelect }: RunGraphProps) {
  // The shape: task names and dependencies only, so statuses leave it (and the layout) alone.
  const shapeId = Object.keys(run.tasks).join("\n");
  const shape = useMemo(() => {
    const names = shapeId ? shapeId.split("\n") : [];
    const nodes = names.map((id) => ({ id, width: NODE_WIDTH, height: NODE_HEIGHT }));
    return { nodes, edges: runEdges(names, spec) };
  }, [shapeId, spec]);
  const positions = useLayout(shape.nodes, shape.edges);
  const box = useRef<HTMLDivElement>(null);

  const nodes = useMemo<RunTaskNodeType[]>(() => {
    if (!positions) return [];
    return shape.nodes.map(({ id }) => {
      const task = run.tasks[id];
      return {
        id,
        type: "runTask",
        position: positions[id] ?? { x: 0, y: 0 },
        width: NODE_WIDTH,
        height: NODE_HEIGHT,
        draggable: false,
        connectable: false,
        data: {
          name: id,
          status: task?.status ?? "pending",
          attempts: task?.attempts ?? 0,
          duration: task?.finished_at
            ? formatDuration(secondsBetween(task.started_at, task.finished_at, 0))
            : "",
          chosen: id === selected,
        },
      };
    });
  }, [positions, shape, run.tasks, selected]);

  const edges = useMemo<Edge[]>(
    () =>
      shape.edges.map((e) => ({
        id: `${e.source}>${e.target}`,
        source: e.source,
        target: e.target,
        animated: run.tasks[e.target]?.status === "running",
      })),
    [shape, run.tasks],
  );

  if (!positions) return <div className="run-graph empty">Laying out the graph…</div>;
  return (
    <div className="run-graph" data-testid="run-graph" ref={box}>
      <ReactFlow
        nodes={nodes}
        edges={edges}
        nodeTypes={runNodeTypes}
        nodesDraggable={false}
        nodesConnectable={false}
        elementsSelectable={false}
        onNodeClick={(_, node) => onSelect?.(node.id === selected ? null : node.id)}
        onPaneClick={() => onSelect?.(null)}
        minZoom={0.1}
        proOptions={{ hideAttribution: true }}
      >
        <FitOnShape positions={positions} box={box} />
        <Background gap={16} size={1} />
        <Controls showInteractive={false} />
      </ReactFlow>
    </div>
  );
}

/** The box around every node, from the layout (no measuring needed: nodes have a set size). */
export function boundsOf(positions: Record<string, { x: number; y: number }>): Rect {
  const all = Object.values(positions);
  const x = Math.min(...all.map((p) => p.x));
  const y = Math.min(...all.map((p) => p.y));
  const right = Math.max(...all.map((p) => p.x + NODE_WIDTH));
  const bottom = Math.max(...all.map((p) => p.y + NODE_HEIGHT));
  return { x, y, width: right - x, height: bottom - y };
}

/** Fit the graph to its box when it is laid out (a new shape) and when the box is resized
 * (a task panel opens beside it); never on a change of status. */
function FitOnShape({
  positions,
  box,
}: {
  positions: Record<string, { x: number; y: number }>;
  box: RefObject<HTMLDivElement | null>;
}) {
  const flow = useReactFlow();
  useEffect(() => {
    const el = box.current;
    if (!el || Object.keys(positions).length === 0) return;
    const bounds = boundsOf(positions);
    const fit = () => {
      if (!el.clientWidth || !el.clientHeight) return;
      const view = getViewportForBounds(bounds, el.clientWidth, el.clientHeight, 0.1, 1.1, 0.12);
      void flow.setViewport(view);
    };
    fit();
    let frame = 0;
    const observer = new ResizeObserver(() => {
      cancelAnimationFrame(frame);
      frame = requestAnimationFrame(fit);
    });
    observer.observe(el);
    return () => {
      cancelAnimationFrame(frame);
      observer.disconnect();
    };
  }, [positions, box, flow]);
  return null;
}
