// The run's DAG, read-only: laid out once per shape by ELK (graph/layout.ts useLayout), with
// each task's live status merged into its node's data, so a status change never lays the
// graph out again. Every node and edge keeps its object while what it shows is unchanged, so
// a status change redraws that task alone (xyflow compares nodes by identity). Zoomed out
// (a big run fitted to its box) tasks are coloured boxes and the edges one path (FarEdges).
// Clicking a task selects it.
import {
  Background,
  Controls,
  getViewportForBounds,
  ReactFlow,
  useReactFlow,
  type Edge,
  type Rect,
  useStore,
} from "@xyflow/react";
import { useCallback, useEffect, useMemo, useRef, useState, type RefObject } from "react";

import type { RunDetail, TaskDetail } from "../api/runs";
import { FAR_ZOOM, FarEdges } from "../editor/FarEdges";
import { newNodeCache, reuseNodes } from "../editor/stableNodes";
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
  // Mutable caches, kept for the component's life (a discarded render only costs reuse).
  const [nodeCache] = useState(newNodeCache<RunTaskNodeType>);
  const [edgeCache] = useState(newNodeCache<Edge>);

  const nodes = useMemo<RunTaskNodeType[]>(() => {
    if (!positions) return [];
    const items = shape.nodes.map(({ id }) => {
      const task = run.tasks[id];
      const inputs = [id, positions[id], task?.status, task?.attempts, task?.started_at];
      return { id, inputs: [...inputs, task?.finished_at, id === selected] };
    });
    return reuseNodes(nodeCache, items, ([id, position, , , , , chosen]) =>
      runNode(String(id), position as XY | undefined, run.tasks[String(id)], chosen === true),
    );
  }, [positions, shape, run.tasks, selected, nodeCache]);

  // An edge into a running task is drawn in the running colour (run.css), without animation:
  // a thousand animated dashes would repaint the whole graph every frame.
  const edges = useMemo<Edge[]>(() => {
    const items = shape.edges.map((e) => ({
      id: `${e.source}>${e.target}`,
      inputs: [e.source, e.target, run.tasks[e.target]?.status === "running"],
    }));
    return reuseNodes(edgeCache, items, ([source, target, running]) => ({
      id: `${String(source)}>${String(target)}`,
      source: String(source),
      target: String(target),
      className: running ? "into-running" : undefined,
    }));
  }, [shape, run.tasks, edgeCache]);

  const current = useRef({ selected, onSelect });
  useEffect(() => {
    current.current = { selected, onSelect };
  });
  const onNodeClick = useCallback((_: unknown, node: { id: string }) => {
    const { selected: chosen, onSelect: select } = current.current;
    select?.(node.id === chosen ? null : node.id);
  }, []);
  const onPaneClick = useCallback(() => current.current.onSelect?.(null), []);
  // A big run opens zoomed out: start far, so that xyflow never draws its edges only to drop
  // them a frame later; once fitted, the zoom decides.
  const [far, setFar] = useState(() => Object.keys(run.tasks).length > VISIBLE_ONLY_ABOVE);
  const [fitted, setFitted] = useState(false);
  const onFit = useCallback((zoom: number) => {
    setFar(zoom < FAR_ZOOM);
    setFitted(true);
  }, []);
  const farNodes = useMemo(
    () => shape.nodes.map(({ id }) => ({ id, position: positions?.[id] ?? { x: 0, y: 0 } })),
    [shape, positions],
  );
  // At far zoom xyflow draws no edges (one <svg> each); FarEdges draws them as one path.
  const flowEdges = far ? NO_EDGES : edges;

  if (!positions) return <div className="run-graph empty">Laying out the graph…</div>;
  return (
    <div className={`run-graph${far ? " far" : ""}`} data-testid="run-graph" ref={box}>
      <ReactFlow
        nodes={nodes}
        edges={flowEdges}
        nodeTypes={runNodeTypes}
        nodesDraggable={false}
        nodesConnectable={false}
        elementsSelectable={false}
        onNodeClick={onNodeClick}
        onPaneClick={onPaneClick}
        onlyRenderVisibleElements={nodes.length > VISIBLE_ONLY_ABOVE}
        minZoom={0.1}
        proOptions={PRO}
      >
        <FitOnShape positions={positions} box={box} onFit={onFit} />
        {fitted ? <ZoomBand onFar={setFar} /> : null}
        {far ? <FarEdges nodes={farNodes} edges={edges} /> : null}
        <Background gap={16} size={1} />
        <Controls showInteractive={false} />
      </ReactFlow>
    </div>
  );
}

const PRO = { hideAttribution: true };
/** Above this many tasks only those in view are rendered (xyflow's onlyRenderVisibleElements). */
const VISIBLE_ONLY_ABOVE = 300;

type XY = { x: number; y: number };
const SIZE = { width: NODE_WIDTH, height: NODE_HEIGHT };
const NO_EDGES: Edge[] = [];

/** A task's node on the graph. */
function runNode(
  id: string,
  position: XY | undefined,
  task: TaskDetail | undefined,
  chosen: boolean,
): RunTaskNodeType {
  return {
    id,
    type: "runTask",
    position: position ?? { x: 0, y: 0 },
    width: NODE_WIDTH,
    height: NODE_HEIGHT,
    // Its size is known (run.css): xyflow keeps the handles it measured when a status change
    // hands it a new node object, instead of measuring the node again.
    measured: SIZE,
    draggable: false,
    connectable: false,
    data: {
      name: id,
      status: task?.status ?? "pending",
      attempts: task?.attempts ?? 0,
      duration: task?.finished_at
        ? formatDuration(secondsBetween(task.started_at, task.finished_at, 0))
        : "",
      chosen,
    },
  };
}

/** Tells whether the graph is zoomed out below FAR_ZOOM (only when that changes). */
function ZoomBand({ onFar }: { onFar: (far: boolean) => void }) {
  const far = useStore((s) => s.transform[2] < FAR_ZOOM);
  useEffect(() => onFar(far), [far, onFar]);
  return null;
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
 * (a task panel opens beside it); never on a change of status. `onFit` hears the zoom. */
function FitOnShape({
  positions,
  box,
  onFit,
}: {
  positions: Record<string, { x: number; y: number }>;
  box: RefObject<HTMLDivElement | null>;
  onFit: (zoom: number) => void;
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
      onFit(view.zoom);
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
  }, [positions, box, flow, onFit]);
  return null;
}
