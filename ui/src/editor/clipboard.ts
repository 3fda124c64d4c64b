// Copy, paste and duplicate of canvas nodes, as pure functions: what is copied (tasks, notes,
// their positions) and how it lands (names made unique, dependencies among the copied tasks
// renamed with them, dependencies on tasks outside kept when those tasks exist).
import { NOTE_PREFIX, uniqueName } from "./graph";
import type { LayoutJson, NoteJson, PipelineJson, TaskJson, XY } from "./types";

export interface Clip {
  tasks: TaskJson[];
  notes: NoteJson[];
  positions: Record<string, XY>;
}

export const PASTE_OFFSET: XY = { x: 40, y: 40 };

/** The selected nodes as a clip (null when nothing is selected). */
export function copyNodes(
  pipeline: PipelineJson,
  layout: LayoutJson,
  nodeIds: readonly string[],
): Clip | null {
  const ids = new Set(nodeIds);
  const tasks = pipeline.tasks.filter((task) => ids.has(task.name));
  const notes = layout.notes.filter((note) => ids.has(NOTE_PREFIX + note.id));
  if (tasks.length === 0 && notes.length === 0) return null;
  const positions: Record<string, XY> = {};
  for (const task of tasks) {
    positions[task.name] = layout.positions[task.name] ?? { x: 0, y: 0 };
  }
  return structuredClone({ tasks, notes, positions });
}

export interface Pasted {
  pipeline: PipelineJson;
  layout: LayoutJson;
  /** The node ids of what was pasted (to select them). */
  ids: string[];
}

/** The clip added to the pipeline, moved by `offset`. */
export function pasteClip(
  pipeline: PipelineJson,
  layout: LayoutJson,
  clip: Clip,
  offset: XY = PASTE_OFFSET,
  newId: () => string = randomId,
): Pasted {
  const taken = new Set(pipeline.tasks.map((t) => t.name));
  const renames = new Map<string, string>();
  for (const task of clip.tasks) {
    const name = uniqueName(task.name, taken);
    taken.add(name);
    renames.set(task.name, name);
  }
  const existing = new Set(pipeline.tasks.map((t) => t.name));
  const positions = { ...layout.positions };
  const added: TaskJson[] = clip.tasks.map((task) => {
    const name = renames.get(task.name)!;
    const depends = (task.depends ?? [])
      .map((dep) => renames.get(dep) ?? dep)
      .filter((dep) => existing.has(dep) || [...renames.values()].includes(dep));
    const copy: TaskJson = { ...structuredClone(task), name, depends };
    if (depends.length === 0) delete copy.depends;
    const at = clip.positions[task.name] ?? { x: 0, y: 0 };
    positions[name] = { x: at.x + offset.x, y: at.y + offset.y };
    return copy;
  });
  const notes = clip.notes.map((note) => ({
    ...structuredClone(note),
    id: newId(),
    position: { x: note.position.x + offset.x, y: note.position.y + offset.y },
  }));
  return {
    pipeline: { ...pipeline, tasks: [...pipeline.tasks, ...added] },
    layout: { positions, notes: [...layout.notes, ...notes] },
    ids: [...added.map((t) => t.name), ...notes.map((n) => NOTE_PREFIX + n.id)],
  };
}

export function randomId(): string {
  return Math.random().toString(36).slice(2, 10);
}
