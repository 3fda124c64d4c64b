// Opening a pipeline in the editor and keeping its edits safe: load the latest version (or an
// empty one for "new"), lay it out when it has no positions, restore an unsaved draft, keep
// the draft on every change, and warn before leaving with unsaved edits.
import { useEffect, useMemo } from "react";

import { usePipeline } from "../api/pipelines";
import { useSession } from "../auth/session";
import { layoutGraph, NODE_HEIGHT, NODE_WIDTH } from "../graph/layout";
import { clearDraft, readDraft, writeDraft } from "./draft";
import { noErrors } from "./fieldErrors";
import { toEdges } from "./graph";
import { snapshotJson, useMeta } from "./meta";
import { emptyLayout, emptyPipeline, normalizeLayout, type Snapshot, useEditor } from "./store";
import type { PipelineJson } from "./types";

/** Positions for every task that has none (all of them laid out again by ELK). */
export async function withLayout(snapshot: Snapshot): Promise<Snapshot> {
  const { pipeline, layout } = snapshot;
  const missing = pipeline.tasks.some((t) => !layout.positions[t.name]);
  if (!missing) return snapshot;
  const nodes = pipeline.tasks.map((t) => ({ id: t.name, width: NODE_WIDTH, height: NODE_HEIGHT }));
  const positions = await layoutGraph(nodes, toEdges(pipeline));
  return { pipeline, layout: { ...layout, positions: { ...positions, ...layout.positions } } };
}

export function useEditorSession(name: string) {
  const project = useSession((s) => s.project);
  const isNew = name === "new";
  const key = `${project}/${name}`;
  const query = usePipeline(isNew ? undefined : name);
  const loadedKey = useMeta((s) => s.key);

  useEffect(() => {
    if (loadedKey === key || (!isNew && !query.data)) return;
    let live = true;
    const saved: Snapshot = query.data
      ? {
          pipeline: query.data.spec as unknown as PipelineJson,
          layout: normalizeLayout(query.data.layout),
        }
      : { pipeline: emptyPipeline(), layout: emptyLayout() };
    const version = query.data?.version ?? 0;
    void withLayout(saved).then((ready) => {
      if (!live) return;
      const savedJson = snapshotJson(ready);
      const draft = readDraft(project, name);
      const restore = draft !== null && snapshotJson(draft) !== savedJson;
      const open = restore ? { pipeline: draft.pipeline, layout: normalizeLayout(draft.layout) } : ready;
      useEditor.getState().load(open.pipeline, open.layout);
      useMeta.getState().set({
        key,
        version,
        savedJson,
        saving: false,
        restoredDraft: restore,
        errors: noErrors(),
        notice: null,
        debug: null,
      });
    });
    return () => {
      live = false;
    };
  }, [key, loadedKey, isNew, name, project, query.data]);

  // Leaving the editor: the next visit opens the pipeline afresh (the draft keeps the edits).
  useEffect(() => () => useMeta.getState().set({ key: "" }), []);

  return { loading: loadedKey !== key, error: isNew ? null : query.error };
}

/** Whether the editor holds edits not saved as a version. */
export function useDirty(): boolean {
  const pipeline = useEditor((s) => s.pipeline);
  const layout = useEditor((s) => s.layout);
  const savedJson = useMeta((s) => s.savedJson);
  const ready = useMeta((s) => s.key !== "");
  return useMemo(
    () => ready && snapshotJson({ pipeline, layout }) !== savedJson,
    [ready, pipeline, layout, savedJson],
  );
}

/** Keep the draft in localStorage while dirty (removed once saved) and warn before unload. */
export function useDraftGuard(name: string, dirty: boolean) {
  const project = useSession((s) => s.project);
  const pipeline = useEditor((s) => s.pipeline);
  const layout = useEditor((s) => s.layout);
  const ready = useMeta((s) => s.key === `${project}/${name}`);
  useEffect(() => {
    if (!ready) return;
    if (dirty) writeDraft(project, name, { pipeline, layout }, useMeta.getState().version);
    else clearDraft(project, name);
  }, [ready, dirty, project, name, pipeline, layout]);
  useEffect(() => {
    if (!dirty) return;
    const warn = (event: BeforeUnloadEvent) => {
      event.preventDefault();
      event.returnValue = "";
    };
    window.addEventListener("beforeunload", warn);
    return () => window.removeEventListener("beforeunload", warn);
  }, [dirty]);
}
