// A graph's edges at far zoom (below FAR_ZOOM, where tasks are plain boxes): one SVG
// path under the nodes instead of xyflow's one <svg> per edge. 2,000 edges are then one thing
// to lay out, paint and hit-test per frame instead of 2,000 layers, which is what dragging a
// node in a 1,000-task pipeline at fit view spends its frames on. The edges of the nodes being
// dragged are a second path, so a move repaints the area they cover, not the whole graph's
// (the still path's data stays the same). The curves are xyflow's
// (a task's output on its right, its input on its left), so nothing jumps at the threshold.
import { type Edge, getBezierPath, Position, useStore } from "@xyflow/react";
import { type ReactNode, useMemo } from "react";
import { createPortal } from "react-dom";

import { NODE_HEIGHT, NODE_WIDTH } from "../graph/layout";

/** Below this zoom a task is a coloured box without text (editor.css and run.css `.far`):
 * cheaper to draw, and its text is unreadable there anyway; edges are drawn by FarEdges. */
export const FAR_ZOOM = 0.35;

/** A node as FarEdges needs it: where it is and, once measured, its size. */
export interface FarNode {
  id: string;
  position: { x: number; y: number };
  measured?: { width?: number; height?: number };
}

/** The edges between two known nodes as one path's data, in flow coordinates. */
export function edgesPath(
  edges: readonly Edge[],
  nodeOf: (id: string) => FarNode | undefined,
): string {
  const parts: string[] = [];
  for (const edge of edges) {
    const from = nodeOf(edge.source);
    const to = nodeOf(edge.target);
    if (!from || !to) continue;
    const [path] = getBezierPath({
      sourceX: from.position.x + (from.measured?.width ?? NODE_WIDTH),
      sourceY: from.position.y + (from.measured?.height ?? NODE_HEIGHT) / 2,
      sourcePosition: Position.Right,
      targetX: to.position.x,
      targetY: to.position.y + (to.measured?.height ?? NODE_HEIGHT) / 2,
      targetPosition: Position.Left,
    });
    parts.push(path);
  }
  return parts.join("");
}

const NO_NODES: readonly FarNode[] = [];

export interface FarEdgesProps {
  /** Every node where it rests: the still edges are drawn from these. */
  nodes: readonly FarNode[];
  edges: readonly Edge[];
  /** The nodes being dragged, where they are now. */
  moving?: readonly FarNode[];
}

export function FarEdges({ nodes, edges, moving = NO_NODES }: FarEdgesProps) {
  const movingKey = moving.map((node) => node.id).join("\n");
  const [still, touched] = useMemo(() => {
    const ids = new Set(movingKey ? movingKey.split("\n") : []);
    const touches = (e: Edge) => ids.has(e.source) || ids.has(e.target);
    return [edges.filter((e) => !touches(e)), edges.filter(touches)];
  }, [edges, movingKey]);
  const rest = useMemo(() => new Map(nodes.map((node) => [node.id, node])), [nodes]);
  const stillPath = useMemo(() => edgesPath(still, (id) => rest.get(id)), [still, rest]);
  const movedPath = useMemo(() => {
    const now = new Map(moving.map((node) => [node.id, node]));
    return edgesPath(touched, (id) => now.get(id) ?? rest.get(id));
  }, [touched, moving, rest]);
  return (
    <InViewport>
      <svg className="far-edges" data-testid="far-edges" aria-hidden>
        <path d={stillPath} />
        {movedPath ? <path d={movedPath} /> : null}
      </svg>
    </InViewport>
  );
}

/** xyflow's ViewportPortal, but its target looked up once, not per store update (a
 * querySelector per mouse move while dragging). */
function InViewport({ children }: { children: ReactNode }) {
  const root = useStore((s) => s.domNode);
  const target = useMemo(() => root?.querySelector(".react-flow__viewport-portal"), [root]);
  return target ? createPortal(children, target) : null;
}
