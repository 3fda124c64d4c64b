// Pure graph logic of the editor (no React): the pipeline's tasks as xyflow nodes and edges
// (a task's `depends` are its incoming edges), the checks made while connecting (cycle,
// duplicate, self) and the edits that keep `depends` consistent (rename, remove).
import type { Edge, Node } from "@xyflow/react";

import { NODE_HEIGHT, NODE_WIDTH } from "../graph/layout";
import type { LayoutJson, NoteJson, PipelineJson, TaskJson, XY } from "./types";

export const NOTE_PREFIX = "note:";
export const GRID: [number, number] = [16, 16];

export interface TaskNodeData extends Record<string, unknown> {
  task: TaskJson;
  errorCount: number;
  messages: string[];
  status?: string;
  category?: string;
}
export interface NoteNodeData extends Record<string, unknown> {
  note: NoteJson;
}
export type TaskNode = Node<TaskNodeData, "task">;
export type NoteNode = Node<NoteNodeData, "note">;
export type EditorNode = TaskNode | NoteNode;

export const noteId = (id: string) => `${NOTE_PREFIX}${id}`;
export const isNoteId = (id: string) => id.startsWith(NOTE_PREFIX);
export const edgeId = (source: string, target: string) => `${source}->${target}`;

/** Every task's dependency edges: one per (depends entry, task), duplicates dropped. */
export function toEdges(pipeline: PipelineJson): Edge[] {
  const names = new Set(pipeline.tasks.map((t) => t.name));
  const edges: Edge[] = [];
  const seen = new Set<string>();
  for (const task of pipeline.tasks) {
    for (const dep of task.depends ?? []) {
      const id = edgeId(dep, task.name);
      if (!names.has(dep) || seen.has(id)) continue;
      seen.add(id);
      edges.push({ id, source: dep, target: task.name });
    }
  }
  return edges;
}

export interface NodeExtras {
  errors?: Record<string, string[]>;
  status?: Record<string, string>;
  categories?: Record<string, string>;
  selected?: ReadonlySet<string>;
}

/** Task nodes (id = task name) and note nodes (id = "note:<id>") at their saved positions. */
export function toNodes(
  pipeline: PipelineJson,
  layout: LayoutJson,
  extras: NodeExtras = {},
): EditorNode[] {
  const nodes: EditorNode[] = pipeline.tasks.map((task, index) => {
    const messages = extras.errors?.[task.name] ?? [];
    const templateName = task.template?.split("@")[0];
    return {
      id: task.name,
      type: "task",
      position: layout.positions[task.name] ?? fallbackPosition(index),
      selected: extras.selected?.has(task.name) ?? false,
      data: {
        task,
        errorCount: messages.length,
        messages,
        status: extras.status?.[task.name],
        category: templateName ? extras.categories?.[templateName] : undefined,
      },
    };
  });
  for (const note of layout.notes) {
    const id = noteId(note.id);
    nodes.push({
      id,
      type: "note",
      position: note.position,
      selected: extras.selected?.has(id) ?? false,
      style: { width: note.width ?? 200, height: note.height ?? 110 },
      data: { note },
    });
  }
  return nodes;
}

function fallbackPosition(index: number): XY {
  return { x: (index % 5) * (NODE_WIDTH + 60), y: Math.floor(index / 5) * (NODE_HEIGHT + 40) };
}

/** Back from the canvas: each task's depends from the edges, positions from the nodes. */
export function fromFlow(
  pipeline: PipelineJson,
  nodes: EditorNode[],
  edges: Edge[],
): { pipeline: PipelineJson; layout: LayoutJson } {
  const incoming = new Map<string, string[]>();
  for (const edge of edges) {
    const list = incoming.get(edge.target) ?? [];
    if (!list.includes(edge.source)) list.push(edge.source);
    incoming.set(edge.target, list);
  }
  const positions: Record<string, XY> = {};
  const notes: NoteJson[] = [];
  for (const node of nodes) {
    if (node.type === "note") notes.push({ ...node.data.note, position: node.position });
    else positions[node.id] = node.position;
  }
  const tasks = pipeline.tasks.map((task) => {
    const depends = incoming.get(task.name) ?? [];
    const next: TaskJson = { ...task, depends };
    if (depends.length === 0) delete next.depends;
    return next;
  });
  return { pipeline: { ...pipeline, tasks }, layout: { positions, notes } };
}

/** A path of task names from `from` to `to` following dependency edges, or null. */
export function findPath(pipeline: PipelineJson, from: string, to: string): string[] | null {
  const children = new Map<string, string[]>();
  for (const task of pipeline.tasks) {
    for (const dep of task.depends ?? []) {
      children.set(dep, [...(children.get(dep) ?? []), task.name]);
    }
  }
  const previous = new Map<string, string>();
  const queue = [from];
  const seen = new Set([from]);
  while (queue.length > 0) {
    const name = queue.shift()!;
    if (name === to) {
      const path = [to];
      while (path[0] !== from) path.unshift(previous.get(path[0])!);
      return path;
    }
    for (const child of children.get(name) ?? []) {
      if (seen.has(child)) continue;
      seen.add(child);
      previous.set(child, name);
      queue.push(child);
    }
  }
  return null;
}

export type ConnectionCheck = { ok: true } | { ok: false; reason: string };

/** Whether an edge source → target (target depends on source) may be drawn, and why not. */
export function checkConnection(
  pipeline: PipelineJson,
  source: string | null | undefined,
  target: string | null | undefined,
): ConnectionCheck {
  if (!source || !target) return { ok: false, reason: "refused: connect two tasks" };
  if (isNoteId(source) || isNoteId(target)) {
    return { ok: false, reason: "refused: notes cannot be connected" };
  }
  const names = new Set(pipeline.tasks.map((t) => t.name));
  if (!names.has(source) || !names.has(target)) {
    return { ok: false, reason: "refused: connect two tasks" };
  }
  if (source === target) {
    return { ok: false, reason: `refused: ${source} cannot depend on itself` };
  }
  const task = pipeline.tasks.find((t) => t.name === target)!;
  if ((task.depends ?? []).includes(source)) {
    return { ok: false, reason: `refused: ${source} → ${target} is already connected` };
  }
  const back = findPath(pipeline, target, source);
  if (back) {
    const loop = [...back, target].join(" → ");
    return {
      ok: false,
      reason: `refused: ${source} → ${target} would close a cycle ${loop}`,
    };
  }
  return { ok: true };
}

/** `base`, or `base-2`, `base-3`, … : the first not in `taken`. */
export function uniqueName(base: string, taken: Iterable<string>): string {
  const names = new Set(taken);
  const clean = sanitizeName(base);
  if (!names.has(clean)) return clean;
  const stem = clean.replace(/-\d+$/, "");
  for (let n = 2; ; n += 1) {
    const candidate = `${stem}-${n}`.slice(0, 63);
    if (!names.has(candidate)) return candidate;
  }
}

/** A task name the spec accepts: a letter first, then letters, digits, - and _. */
export function sanitizeName(raw: string): string {
  let name = raw.replace(/[^A-Za-z0-9_-]+/g, "-").replace(/^[^A-Za-z]+/, "");
  if (!name) name = "task";
  return name.slice(0, 60);
}

/** The pipeline with a task renamed: its depends everywhere and its position follow. */
export function renameTask(
  pipeline: PipelineJson,
  layout: LayoutJson,
  from: string,
  to: string,
): { pipeline: PipelineJson; layout: LayoutJson } {
  if (from === to) return { pipeline, layout };
  const tasks = pipeline.tasks.map((task) => {
    const renamed = task.name === from ? { ...task, name: to } : task;
    if (!renamed.depends?.includes(from)) return renamed;
    return { ...renamed, depends: renamed.depends.map((d) => (d === from ? to : d)) };
  });
  const positions = { ...layout.positions };
  if (positions[from]) {
    positions[to] = positions[from];
    delete positions[from];
  }
  return { pipeline: { ...pipeline, tasks }, layout: { ...layout, positions } };
}

/** The pipeline without the given tasks, notes and edges (edges as ids "a->b"). */
export function removeElements(
  pipeline: PipelineJson,
  layout: LayoutJson,
  nodeIds: readonly string[],
  edgeIds: readonly string[] = [],
): { pipeline: PipelineJson; layout: LayoutJson } {
  const gone = new Set(nodeIds);
  const cut = new Set(edgeIds);
  const tasks = pipeline.tasks
    .filter((task) => !gone.has(task.name))
    .map((task) => {
      if (!task.depends) return task;
      const depends = task.depends.filter((d) => !gone.has(d) && !cut.has(edgeId(d, task.name)));
      if (depends.length === task.depends.length) return task;
      const next: TaskJson = { ...task, depends };
      if (depends.length === 0) delete next.depends;
      return next;
    });
  const positions = Object.fromEntries(
    Object.entries(layout.positions).filter(([name]) => !gone.has(name)),
  );
  const notes = layout.notes.filter((note) => !gone.has(noteId(note.id)));
  return { pipeline: { ...pipeline, tasks }, layout: { positions, notes } };
}

/** The pipeline with one more dependency (no check: call checkConnection first). */
export function addEdge(pipeline: PipelineJson, source: string, target: string): PipelineJson {
  const tasks = pipeline.tasks.map((task) =>
    task.name === target ? { ...task, depends: [...(task.depends ?? []), source] } : task,
  );
  return { ...pipeline, tasks };
}
