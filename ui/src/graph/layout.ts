// Automatic layout of a DAG with ELK (layered, left to right), shared by the editor and the
// run view. The result is cached by the graph's shape (node ids, sizes and edges), so a
// change of run state or of a node's data never lays the graph out again.
import ELK from "elkjs/lib/elk.bundled.js";
import { useEffect, useState } from "react";

import type { XY } from "../editor/types";

export interface LayoutNode {
  id: string;
  width: number;
  height: number;
}
export interface LayoutEdge {
  source: string;
  target: string;
}

const elk = new ELK();
const cache = new Map<string, Record<string, XY>>();
const MAX_CACHED = 50;

export const NODE_WIDTH = 220;
export const NODE_HEIGHT = 64;

export function shapeKey(nodes: LayoutNode[], edges: LayoutEdge[]): string {
  const n = nodes.map((node) => `${node.id}:${node.width}x${node.height}`).sort();
  const e = edges.map((edge) => `${edge.source}>${edge.target}`).sort();
  return `${n.join(",")}|${e.join(",")}`;
}

/** Top-left positions for every node, left to right by dependency. */
export async function layoutGraph(
  nodes: LayoutNode[],
  edges: LayoutEdge[],
): Promise<Record<string, XY>> {
  const key = shapeKey(nodes, edges);
  const known = cache.get(key);
  if (known) return known;
  const ids = new Set(nodes.map((node) => node.id));
  const graph = await elk.layout({
    id: "root",
    layoutOptions: {
      "elk.algorithm": "layered",
      "elk.direction": "RIGHT",
      "elk.layered.spacing.nodeNodeBetweenLayers": "70",
      "elk.spacing.nodeNode": "28",
      "elk.layered.nodePlacement.strategy": "BRANDES_KOEPF",
    },
    children: nodes.map((node) => ({ id: node.id, width: node.width, height: node.height })),
    edges: edges
      .filter((edge) => ids.has(edge.source) && ids.has(edge.target))
      .map((edge, index) => ({ id: `e${index}`, sources: [edge.source], targets: [edge.target] })),
  });
  const positions: Record<string, XY> = {};
  for (const child of graph.children ?? []) {
    positions[child.id] = { x: child.x ?? 0, y: child.y ?? 0 };
  }
  if (cache.size >= MAX_CACHED) cache.delete(cache.keys().next().value as string);
  cache.set(key, positions);
  return positions;
}

/** The layout of a graph, recomputed only when its shape changes; null until the first one. */
export function useLayout(nodes: LayoutNode[], edges: LayoutEdge[]): Record<string, XY> | null {
  const key = shapeKey(nodes, edges);
  const [result, setResult] = useState<{ key: string; positions: Record<string, XY> } | null>(
    null,
  );
  useEffect(() => {
    let live = true;
    // The key names the shape; nodes and edges are read only when it changes.
    void layoutGraph(nodes, edges).then((positions) => {
      if (live) setResult({ key, positions });
    });
    return () => {
      live = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key]);
  return result?.positions ?? null;
}
