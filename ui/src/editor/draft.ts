// The unsaved draft of a pipeline (its JSON and layout), kept in localStorage per project and
// pipeline on every change so that a reload or a crash loses nothing. A save clears it.
import type { Snapshot } from "./store";

export interface Draft extends Snapshot {
  /** The saved version the edits started from (0: a new pipeline). */
  base: number;
  at: string;
}

const draftKey = (project: string, name: string) => `cube.draft.${project}.${name}`;

export function readDraft(project: string, name: string): Draft | null {
  try {
    const text = localStorage.getItem(draftKey(project, name));
    if (!text) return null;
    const draft = JSON.parse(text) as Draft;
    if (!draft?.pipeline || !Array.isArray(draft.pipeline.tasks)) return null;
    return draft;
  } catch {
    return null;
  }
}

export function writeDraft(project: string, name: string, snapshot: Snapshot, base: number) {
  const draft: Draft = { ...snapshot, base, at: new Date().toISOString() };
  try {
    localStorage.setItem(draftKey(project, name), JSON.stringify(draft));
  } catch {
    // storage full or disabled: the beforeunload warning still guards the edits
  }
}

export function clearDraft(project: string, name: string) {
  localStorage.removeItem(draftKey(project, name));
}
