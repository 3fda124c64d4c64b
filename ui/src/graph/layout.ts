// Automatic layout of a DAG with ELK (layered, left to right), shared by the editor and the
// run view. The result is cached by the graph's shape (node ids, sizes and edges), so a
// change of run state or of a node's data never lays the graph out again.
// ELK runs in a Web Worker (the page stays responsive while it works); above ELK_LIMIT
// nodes, where ELK takes seconds, a layered layout of our own (columns by longest path from
// a root) is used instead: linear in the graph's size.
import ELK, { type ELK as ElkApi } from "elkjs/lib/elk-api.js";
import elkWorkerUrl from "elkjs/lib/elk-worker.min.js?url";
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

export const NODE_WIDTH = 220;
export const NODE_HEIGHT = 64;
export const ELK_LIMIT = 300;
const GAP_X = 70;
const GAP_Y = 28;

let elk: Promise<ElkApi> | null = null;

function elkInstance(): Promise<ElkApi> {
  if (elk === null) {
    elk =
      typeof Worker === "undefined" // tests (jsdom): the same ELK, on this thread
        ? import("elkjs/lib/elk.bundled.js").then((m) => new m.default())
        : Promise.resolve(new ELK({ workerFactory: () => new Worker(elkWorkerUrl) }));
  }
  return elk;
}

/** Columns by longest path from a root, rows in the order nodes come: O(nodes + edges). */
export function layeredLayout(nodes: LayoutNode[], edges: LayoutEdge[]): Record<string, XY> {
  const rank = new Map(nodes.map((node) => [node.id, 0]));
  const next = new Map<string, string[]>();
  const waiting = new Map(nodes.map((node) => [node.id, 0]));
  for (const edge of edges) {
    if (!rank.has(edge.source) || !rank.has(edge.target)) continue;
    next.set(edge.source, [...(next.get(edge.source) ?? []), edge.target]);
    waiting.set(edge.target, (waiting.get(edge.target) ?? 0) + 1);
  }
  const ready = nodes.filter((node) => waiting.get(node.id) === 0).map((node) => node.id);
  for (let i = 0; i < ready.length; i++) {
    const id = ready[i];
    for (const target of next.get(id) ?? []) {
      rank.set(target, Math.max(rank.get(target)!, rank.get(id)! + 1));
      const left = waiting.get(target)! - 1;
      waiting.set(target, left);
      if (left === 0) ready.push(target);
    }
  }
  const rows = new Map<number, number>();
  const positions: Record<string, XY> = {};
  for (const node of nodes) {
    const column = rank.get(node.id)!; // a node on a cycle keeps column 0
    const row = rows.get(column) ?? 0;
    rows.set(column, row + 1);
    positions[node.id] = { x: column * (NODE_WIDTH + GAP_X), y: row * (NODE_HEIGHT + GAP_Y) };
  }
  return positions;
}

const cache = new Map<string, Record<string, XY>>();
const MAX_CACHED = 50;

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
  const positions =
    nodes.length > ELK_LIMIT ? layeredLayout(nodes, edges) : await elkLayout(nodes, edges);
  if (cache.size >= MAX_CACHED) cache.delete(cache.keys().next().value as string);
  cache.set(key, positions);
  return positions;
}

async function elkLayout(nodes: LayoutNode[], edges: LayoutEdge[]): Promise<Record<string, XY>> {
  const ids = new Set(nodes.map((node) => node.id));
  const graph = await (await elkInstance()).layout({
    id: "root",
    layoutOptions: {
      "elk.algorithm": "layered",
      "elk.direction": "RIGHT",
      "elk.layered.spacing.nodeNodeBetweenLayers": String(GAP_X),
      "elk.spacing.nodeNode": String(GAP_Y),
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
