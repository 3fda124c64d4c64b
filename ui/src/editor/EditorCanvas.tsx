// The canvas: the pipeline's tasks and notes as nodes, dependencies as edges. Drop a template
// from the palette to add a task; draw from a task's right handle to another's left to make
// it depend on it (a cycle or a duplicate is refused with the reason); drag to move (one
// undoable step when the drag ends); Delete/Backspace removes the selection.
import {
  Background,
  type Connection,
  Controls,
  type Edge,
  type EdgeChange,
  type FinalConnectionState,
  MiniMap,
  type NodeChange,
  ReactFlow,
  useReactFlow,
} from "@xyflow/react";
import { type DragEvent, useCallback, useMemo, useRef, useState } from "react";

import { useTemplates } from "../api/templates";
import { categoryColor } from "./categories";
import { taskMessages } from "./fieldErrors";
import { checkConnection, type EditorNode, GRID, type TaskNodeData, toEdges, toNodes } from "./graph";
import { notify, useMeta } from "./meta";
import { nodeTypes } from "./nodeTypes";
import { mergeErrors, taskValidity } from "./nodeTypes/validity";
import { DRAG_MIME, useDropTask } from "./palette/dropTask";
import { useEditor } from "./store";
import type { XY } from "./types";

interface Dimensions {
  width: number;
  height: number;
}

export function EditorCanvas({ status }: { status?: Record<string, string> }) {
  const pipeline = useEditor((s) => s.pipeline);
  const layout = useEditor((s) => s.layout);
  const selected = useEditor((s) => s.selected);
  const selectedEdges = useEditor((s) => s.selectedEdges);
  const serverErrors = useMeta((s) => s.errors.byTask);
  const templates = useTemplates();
  const { screenToFlowPosition } = useReactFlow();
  const dropTask = useDropTask();
  const [dims, setDims] = useState<Record<string, Dimensions>>({});
  const [drag, setDrag] = useState<Record<string, XY>>({});
  const dragRef = useRef<Record<string, XY>>({});
  // Fit an opened graph into view, but never jump away from the first node dropped on an
  // empty canvas (xyflow would fit the view once that node is measured).
  const [fitOnOpen] = useState(() => pipeline.tasks.length > 0 || layout.notes.length > 0);

  const categories = useMemo(
    () => Object.fromEntries((templates.data ?? []).map((t) => [t.name, t.category])),
    [templates.data],
  );
  const errors = useMemo(() => {
    const out: Record<string, string[]> = {};
    for (const task of pipeline.tasks) {
      const messages = taskMessages(mergeErrors(taskValidity(task), serverErrors[task.name]));
      if (messages.length) out[task.name] = messages;
    }
    return out;
  }, [pipeline.tasks, serverErrors]);
  const derived = useMemo(
    () =>
      toNodes(pipeline, layout, {
        errors,
        status,
        categories,
        selected: new Set(selected),
      }),
    [pipeline, layout, errors, status, categories, selected],
  );
  const nodes = useMemo(
    () =>
      derived.map((node) => {
        const measured = dims[node.id];
        const moved = drag[node.id];
        if (!measured && !moved) return node;
        return { ...node, measured, position: moved ?? node.position } as EditorNode;
      }),
    [derived, dims, drag],
  );
  const edges = useMemo(() => {
    const chosen = new Set(selectedEdges);
    return toEdges(pipeline).map((edge) => ({ ...edge, selected: chosen.has(edge.id) }));
  }, [pipeline, selectedEdges]);

  const onNodesChange = useCallback(
    (changes: NodeChange<EditorNode>[]) => handleNodeChanges(changes, setDims, dragRef, setDrag),
    [],
  );
  const onEdgesChange = useCallback((changes: EdgeChange<Edge>[]) => {
    const state = useEditor.getState();
    const chosen = new Set(state.selectedEdges);
    let touched = false;
    for (const change of changes) {
      if (change.type !== "select") continue;
      touched = true;
      if (change.selected) chosen.add(change.id);
      else chosen.delete(change.id);
    }
    if (touched) state.select(state.selected, [...chosen]);
  }, []);
  const isValidConnection = useCallback(
    (c: Edge | Connection) => checkConnection(useEditor.getState().pipeline, c.source, c.target).ok,
    [],
  );
  const onConnect = useCallback((c: Connection) => {
    const check = useEditor.getState().connect(c.source, c.target);
    if (!check.ok) notify(check.reason);
  }, []);
  const onConnectEnd = useCallback(
    (_event: MouseEvent | TouchEvent, state: FinalConnectionState) => {
      if (state.isValid !== false || !state.fromNode || !state.toNode) return;
      const fromSource = state.fromHandle?.type !== "target";
      const source = fromSource ? state.fromNode.id : state.toNode.id;
      const target = fromSource ? state.toNode.id : state.fromNode.id;
      const check = checkConnection(useEditor.getState().pipeline, source, target);
      if (!check.ok) notify(check.reason);
    },
    [],
  );
  const onDelete = useCallback(({ nodes, edges }: { nodes: EditorNode[]; edges: Edge[] }) => {
    useEditor.getState().remove(
      nodes.map((n) => n.id),
      edges.map((e) => e.id),
    );
  }, []);
  const onDragOver = useCallback((event: DragEvent) => {
    if (!event.dataTransfer.types.includes(DRAG_MIME)) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "copy";
  }, []);
  const onDrop = useCallback(
    (event: DragEvent) => {
      const entry = event.dataTransfer.getData(DRAG_MIME);
      if (!entry) return;
      event.preventDefault();
      const at = screenToFlowPosition({ x: event.clientX, y: event.clientY });
      void dropTask(entry, { x: at.x - 110, y: at.y - 32 });
    },
    [screenToFlowPosition, dropTask],
  );

  return (
    <div className="editor-canvas" data-testid="editor-canvas">
      <ReactFlow<EditorNode, Edge>
        nodes={nodes}
        edges={edges}
        nodeTypes={nodeTypes}
        onNodesChange={onNodesChange}
        onEdgesChange={onEdgesChange}
        onConnect={onConnect}
        onConnectEnd={onConnectEnd}
        isValidConnection={isValidConnection}
        onDelete={onDelete}
        onDrop={onDrop}
        onDragOver={onDragOver}
        snapToGrid
        snapGrid={GRID}
        deleteKeyCode={["Delete", "Backspace"]}
        multiSelectionKeyCode={["Shift", "Meta", "Control"]}
        fitView={fitOnOpen}
        fitViewOptions={{ maxZoom: 1.1, padding: 0.2 }}
        minZoom={0.05}
        proOptions={{ hideAttribution: true }}
      >
        <Background gap={GRID[0]} size={1} />
        <MiniMap
          style={{ width: 160, height: 110 }}
          pannable
          zoomable
          nodeColor={(node) =>
            node.type === "note" ? "#fde68a" : categoryColor(categories[templateOf(node)])
          }
        />
        <Controls />
      </ReactFlow>
      {pipeline.tasks.length === 0 && layout.notes.length === 0 ? (
        <div className="canvas-empty empty">
          <strong>An empty pipeline</strong>
          Drag a template from the palette onto the canvas, or paste YAML in the YAML tab.
        </div>
      ) : null}
    </div>
  );
}

function templateOf(node: { type?: string; data: Record<string, unknown> }): string {
  if (node.type !== "task") return "";
  return (node.data as TaskNodeData).task.template?.split("@")[0] ?? "";
}

function handleNodeChanges(
  changes: NodeChange<EditorNode>[],
  setDims: (f: (d: Record<string, Dimensions>) => Record<string, Dimensions>) => void,
  drag: { current: Record<string, XY> },
  setDrag: (d: Record<string, XY>) => void,
) {
  const measured: Record<string, Dimensions> = {};
  let dragging = { ...drag.current };
  const committed: Record<string, XY> = {};
  let selection: Set<string> | null = null;
  for (const change of changes) {
    if (change.type === "dimensions" && change.dimensions) {
      measured[change.id] = change.dimensions;
    } else if (change.type === "position") {
      if (change.dragging && change.position) {
        dragging[change.id] = change.position;
      } else {
        const at = change.position ?? dragging[change.id];
        if (at) committed[change.id] = at;
        dragging = Object.fromEntries(Object.entries(dragging).filter(([id]) => id !== change.id));
      }
    } else if (change.type === "select") {
      selection ??= new Set(useEditor.getState().selected);
      if (change.selected) selection.add(change.id);
      else selection.delete(change.id);
    }
  }
  if (Object.keys(measured).length) setDims((d) => ({ ...d, ...measured }));
  if (Object.keys(committed).length) useEditor.getState().moveNodes(committed);
  if (dragging !== drag.current && (Object.keys(committed).length || changes.some(isDrag))) {
    drag.current = dragging;
    setDrag(dragging);
  }
  if (selection) {
    const state = useEditor.getState();
    state.select([...selection], state.selectedEdges);
  }
}

const isDrag = (change: NodeChange<EditorNode>) => change.type === "position" && change.dragging;
