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

export const snapshotJson = (snapshot: Snapshot) =>
  JSON.stringify({ pipeline: snapshot.pipeline, layout: snapshot.layout });

export function notify(text: string, kind: Notice["kind"] = "error") {
  useMeta.getState().set({ notice: { kind, text } });
}
