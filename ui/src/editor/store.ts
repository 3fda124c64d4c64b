// The editor's one store: the pipeline being edited, its layout (positions, notes) and the
// selection. Every edit of the pipeline or layout is one step of the undo history (zundo);
// selection changes are not. Graph rules live in graph.ts and clipboard.ts.
import { temporal } from "zundo";
import { create } from "zustand";

import { type Clip, copyNodes, pasteClip, randomId } from "./clipboard";
import {
  addEdge,
  checkConnection,
  type ConnectionCheck,
  isNoteId,
  NOTE_PREFIX,
  removeElements,
  renameTask,
  uniqueName,
} from "./graph";
import type { LayoutJson, NoteJson, PipelineJson, TaskJson, XY } from "./types";

export interface Snapshot {
  pipeline: PipelineJson;
  layout: LayoutJson;
}

export interface EditorState extends Snapshot {
  selected: string[];
  selectedEdges: string[];
  /** Replace everything and forget the history (opening a pipeline, a restored draft). */
  load: (pipeline: PipelineJson, layout?: LayoutJson | null) => void;
  /** Replace everything as one undoable edit (import, YAML edits, restoring a version). */
  replace: (pipeline: PipelineJson, layout?: LayoutJson | null) => void;
  addTask: (task: TaskJson, position: XY) => string;
  updateTask: (name: string, next: TaskJson) => void;
  /** Every top-level field but the tasks (the pipeline settings panel). */
  updateSettings: (next: PipelineJson) => void;
  moveNodes: (positions: Record<string, XY>) => void;
  connect: (source: string, target: string) => ConnectionCheck;
  remove: (nodeIds: readonly string[], edgeIds?: readonly string[]) => void;
  addNote: (position: XY, text?: string) => string;
  updateNote: (id: string, patch: Partial<NoteJson>) => void;
  paste: (clip: Clip) => void;
  duplicate: (nodeIds: readonly string[]) => void;
  select: (nodeIds: string[], edgeIds?: string[]) => void;
}

export const emptyLayout = (): LayoutJson => ({ positions: {}, notes: [] });
export const emptyPipeline = (name = ""): PipelineJson => ({ name, tasks: [] });

/** A layout as saved by anyone (or nothing) made whole. */
export function normalizeLayout(raw: unknown): LayoutJson {
  const value = (raw ?? {}) as Partial<LayoutJson>;
  return {
    positions: { ...(value.positions ?? {}) },
    notes: Array.isArray(value.notes) ? value.notes : [],
  };
}

export const useEditor = create<EditorState>()(
  temporal(
    (set, get) => ({
      pipeline: emptyPipeline(),
      layout: emptyLayout(),
      selected: [],
      selectedEdges: [],
      load: (pipeline, layout) => {
        useEditor.temporal.getState().pause();
        set({ pipeline, layout: normalizeLayout(layout), selected: [], selectedEdges: [] });
        useEditor.temporal.getState().resume();
        useEditor.temporal.getState().clear();
      },
      replace: (pipeline, layout) =>
        set({ pipeline, layout: normalizeLayout(layout ?? get().layout), selected: [] }),
      addTask: (task, position) => {
        const { pipeline, layout } = get();
        const name = uniqueName(task.name, pipeline.tasks.map((t) => t.name));
        set({
          pipeline: { ...pipeline, tasks: [...pipeline.tasks, { ...task, name }] },
          layout: { ...layout, positions: { ...layout.positions, [name]: position } },
          selected: [name],
          selectedEdges: [],
        });
        return name;
      },
      updateTask: (name, next) => {
        const state = get();
        const clash = next.name !== name && state.pipeline.tasks.some((t) => t.name === next.name);
        if (clash || !state.pipeline.tasks.some((t) => t.name === name)) return;
        const renamed = renameTask(state.pipeline, state.layout, name, next.name);
        const tasks = renamed.pipeline.tasks.map((t) => (t.name === next.name ? next : t));
        const selected = state.selected.map((id) => (id === name ? next.name : id));
        set({ pipeline: { ...renamed.pipeline, tasks }, layout: renamed.layout, selected });
      },
      updateSettings: (next) => set({ pipeline: { ...next, tasks: get().pipeline.tasks } }),
      moveNodes: (moved) => {
        const layout = withPositions(get().layout, moved);
        if (JSON.stringify(layout) !== JSON.stringify(get().layout)) set({ layout });
      },
      connect: (source, target) => {
        const check = checkConnection(get().pipeline, source, target);
        if (check.ok) set({ pipeline: addEdge(get().pipeline, source, target) });
        return check;
      },
      remove: (nodeIds, edgeIds = []) => {
        if (nodeIds.length === 0 && edgeIds.length === 0) return;
        const next = removeElements(get().pipeline, get().layout, nodeIds, edgeIds);
        set({ ...next, selected: [], selectedEdges: [] });
      },
      addNote: (position, text = "") => {
        const id = randomId();
        const note: NoteJson = { id, text, position, width: 200, height: 110 };
        const layout = get().layout;
        set({ layout: { ...layout, notes: [...layout.notes, note] }, selected: [NOTE_PREFIX + id] });
        return id;
      },
      updateNote: (id, patch) => {
        const layout = get().layout;
        const notes = layout.notes.map((n) => (n.id === id ? { ...n, ...patch } : n));
        set({ layout: { ...layout, notes } });
      },
      paste: (clip) => {
        const pasted = pasteClip(get().pipeline, get().layout, clip);
        set({ pipeline: pasted.pipeline, layout: pasted.layout, selected: pasted.ids });
      },
      duplicate: (nodeIds) => {
        const clip = copyNodes(get().pipeline, get().layout, nodeIds);
        if (clip) get().paste(clip);
      },
      select: (nodeIds, edgeIds = []) => {
        const same =
          sameList(nodeIds, get().selected) && sameList(edgeIds, get().selectedEdges);
        if (!same) set({ selected: nodeIds, selectedEdges: edgeIds });
      },
    }),
    {
      partialize: (state): Snapshot => ({ pipeline: state.pipeline, layout: state.layout }),
      equality: (a, b) => a.pipeline === b.pipeline && a.layout === b.layout,
      limit: 200,
    },
  ),
);

function withPositions(layout: LayoutJson, moved: Record<string, XY>): LayoutJson {
  const positions = { ...layout.positions };
  let notes = layout.notes;
  for (const [id, at] of Object.entries(moved)) {
    if (isNoteId(id)) {
      const noteKey = id.slice(NOTE_PREFIX.length);
      notes = notes.map((n) => (n.id === noteKey ? { ...n, position: at } : n));
    } else {
      positions[id] = at;
    }
  }
  return { positions, notes };
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

export const undo = () => useEditor.temporal.getState().undo();
export const redo = () => useEditor.temporal.getState().redo();
