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
  type Node,
  ReactFlow,
  useReactFlow,
  useStore,
} from "@xyflow/react";
import { type DragEvent, useCallback, useMemo, useRef, useState } from "react";

import { useTemplates } from "../api/templates";
import { categoryColor } from "./categories";
import { FAR_ZOOM, FarEdges } from "./FarEdges";
import { taskMessages } from "./fieldErrors";
import { checkConnection, type EditorNode, GRID, type TaskNodeData, toEdges, toNodes } from "./graph";
import { notify, useMeta } from "./meta";
import { nodeTypes } from "./nodeTypes";
import { mergeErrors, taskValidity } from "./nodeTypes/validity";
import { DRAG_MIME, useDropTask } from "./palette/dropTask";
import { newNodeCache, reuseNodes } from "./stableNodes";
import { useEditor } from "./store";
import type { XY } from "./types";

/** Above this many nodes only those in view are rendered (xyflow's onlyRenderVisibleElements). */
const VISIBLE_ONLY_ABOVE = 300;
const DELETE_KEYS = ["Delete", "Backspace"];
const MULTI_KEYS = ["Shift", "Meta", "Control"];
const FIT_OPTIONS = { maxZoom: 1.1, padding: 0.2 };
const PRO = { hideAttribution: true };
const MINIMAP_STYLE = { width: 160, height: 110 };

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
  const [cache] = useState(newNodeCache<EditorNode>); // mutable, kept for the canvas's life
  // A boolean from the store: the canvas re-renders when the threshold is crossed, not per zoom tick.
  const far = useStore((s) => s.transform[2] < FAR_ZOOM);
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
  // Every node keeps its object while its own inputs are unchanged: a status change of one
  // task hands xyflow one new node, not all of them; and while a node is dragged only that
  // node is a new object per mouse move.
  const resting = useMemo(
    () =>
      reuseNodes(
        cache,
        derived.map((node) => ({ id: node.id, inputs: [node, dims[node.id]] })),
        ([node, measured]) => sized(node as EditorNode, measured as Dimensions | undefined),
      ),
    [derived, dims, cache],
  );
  const nodes = useMemo(
    () =>
      Object.keys(drag).length === 0
        ? resting
        : resting.map((node) => (drag[node.id] ? { ...node, position: drag[node.id] } : node)),
    [resting, drag],
  );
  const edges = useMemo(() => {
    const chosen = new Set(selectedEdges);
    return toEdges(pipeline).map((edge) => ({ ...edge, selected: chosen.has(edge.id) }));
  }, [pipeline, selectedEdges]);
  const moving = useMemo(() => nodes.filter((node) => drag[node.id]), [nodes, drag]);
  // At far zoom xyflow draws the selected edges only; FarEdges draws them all as one path.
  const flowEdges = useMemo(() => (far ? edges.filter((e) => e.selected) : edges), [far, edges]);

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
  const nodeColor = useCallback(
    (node: Node) =>
      node.type === "note" ? "#fde68a" : categoryColor(categories[templateOf(node)]),
    [categories],
  );
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

  const dragging = moving.length > 0;
  return (
    <div
      className={`editor-canvas${far ? " far" : ""}${dragging ? " dragging" : ""}`}
      data-testid="editor-canvas"
    >
      <ReactFlow<EditorNode, Edge>
        nodes={nodes}
        edges={flowEdges}
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
        deleteKeyCode={DELETE_KEYS}
        multiSelectionKeyCode={MULTI_KEYS}
        fitView={fitOnOpen}
        fitViewOptions={FIT_OPTIONS}
        minZoom={0.05}
        onlyRenderVisibleElements={nodes.length > VISIBLE_ONLY_ABOVE}
        proOptions={PRO}
      >
        <Background gap={GRID[0]} size={1} />
        {far ? <FarEdges nodes={resting} edges={edges} moving={moving} /> : null}
        {far ? null : (
          // Zoomed out the canvas is its own map; a MiniMap there would cost one store
          // subscription per node on every mouse move of a drag.
          <MiniMap style={MINIMAP_STYLE} pannable zoomable nodeColor={nodeColor} />
        )}
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

/** A node at the size xyflow measured. */
function sized(node: EditorNode, measured: Dimensions | undefined): EditorNode {
  return measured ? ({ ...node, measured } as EditorNode) : node;
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
