// What the editor knows beside the pipeline itself, kept out of the undo history: the
// version it was opened at, the snapshot last saved (to tell saved from unsaved), whether a
// save is under way, the server's validation problems and the banner line of the moment.
import { create } from "zustand";

import { noErrors, type SortedErrors } from "./fieldErrors";
import type { Snapshot } from "./store";

export interface Notice {
  kind: "error" | "info";
  text: string;
}

export interface EditorMeta {
  /** "project/name" the editor holds ("project/new" for a new pipeline). */
  key: string;
  version: number;
  savedJson: string;
  saving: boolean;
  restoredDraft: boolean;
  errors: SortedErrors;
  notice: Notice | null;
  debug: { runId: string; task: string } | null;
  set: (patch: Partial<Omit<EditorMeta, "set">>) => void;
}

export const useMeta = create<EditorMeta>((set) => ({
  key: "",
  version: 0,
  savedJson: "",
  saving: false,
  restoredDraft: false,
  errors: noErrors(),
  notice: null,
  debug: null,
  set: (patch) => set(patch),
}));

/** The pipeline and layout as text to tell saved from unsaved: keys sorted, so the same
 * pipeline written in another key order (the YAML view, the server's copy) reads as equal. */
export const snapshotJson = (snapshot: Snapshot) =>
  JSON.stringify({ pipeline: snapshot.pipeline, layout: snapshot.layout }, sortedKeys);

function sortedKeys(_key: string, value: unknown): unknown {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return value;
  const record = value as Record<string, unknown>;
  return Object.fromEntries(Object.keys(record).sort().map((k) => [k, record[k]]));
}

export function notify(text: string, kind: Notice["kind"] = "error") {
  useMeta.getState().set({ notice: { kind, text } });
}
