// The registry of canvas node types: per type its component, its settings panel and its own
// validity check. ReactFlow gets `nodeTypes`; the side panel and the nodes read `nodeKinds`.
import type { NodeTypes } from "@xyflow/react";
import type { ComponentType } from "react";

import { isNoteId } from "../graph";
import type { NoteJson, TaskJson } from "../types";
import { NoteNode } from "./NoteNode";
import { NotePanel } from "./NotePanel";
import { TaskNode } from "./TaskNode";
import { TaskPanel } from "./TaskPanel";
import { noteValidity, taskValidity } from "./validity";

export interface NodeKind<T> {
  label: string;
  component: NodeTypes[string];
  Panel: ComponentType<{ id: string }>;
  validity: (value: T) => Record<string, string>;
}

export const nodeKinds = {
  task: { label: "Task", component: TaskNode, Panel: TaskPanel, validity: taskValidity },
  note: { label: "Note", component: NoteNode, Panel: NotePanel, validity: noteValidity },
} satisfies { task: NodeKind<TaskJson>; note: NodeKind<NoteJson> };

export type NodeKindName = keyof typeof nodeKinds;

/** For ReactFlow: defined once at module level, so it never changes between renders. */
export const nodeTypes: NodeTypes = {
  task: nodeKinds.task.component,
  note: nodeKinds.note.component,
};

export const kindOf = (id: string): NodeKindName => (isNoteId(id) ? "note" : "task");
