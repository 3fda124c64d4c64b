// The editor's commands, shared by the toolbar and the keyboard shortcuts: save (create the
// first time), run, debug one task, auto-layout, fit, copy/paste/duplicate, export, import.
import { useNavigate } from "@tanstack/react-router";
import { useReactFlow } from "@xyflow/react";
import { useCallback, useMemo } from "react";

import { ApiError } from "../api/http";
import {
  type PipelineDraft,
  useCreatePipeline,
  useDebugTask,
  useSavePipeline,
  useTriggerPipeline,
} from "../api/pipelines";
import { useSession } from "../auth/session";
import { layoutGraph, NODE_HEIGHT, NODE_WIDTH } from "../graph/layout";
import { type Clip, copyNodes } from "./clipboard";
import { clearDraft } from "./draft";
import { sortErrors } from "./fieldErrors";
import { isNoteId, toEdges } from "./graph";
import { notify, snapshotJson, useMeta } from "./meta";
import { useEditor } from "./store";
import { withLayout } from "./useEditorSession";
import { fromYaml, toYaml } from "./yamlText";

let clipboard: Clip | null = null;

export interface SaveOptions {
  message?: string;
  name?: string;
}

export function useEditorActions(routeName: string, askName: () => void) {
  const project = useSession((s) => s.project);
  const navigate = useNavigate();
  const flow = useReactFlow();
  const create = useCreatePipeline();
  const saveVersion = useSavePipeline();
  const trigger = useTriggerPipeline();
  const debugTask = useDebugTask();
  const isNew = routeName === "new";

  /** Save a version (create the pipeline the first time); the saved name, or null. */
  const save = useCallback(
    async (options: SaveOptions = {}): Promise<string | null> => {
      const state = useEditor.getState();
      const meta = useMeta.getState();
      if (meta.saving) return null;
      if (options.name !== undefined && options.name !== state.pipeline.name) {
        state.updateSettings({ ...state.pipeline, name: options.name });
      }
      const { pipeline, layout } = useEditor.getState();
      if (isNew && !pipeline.name) {
        askName();
        return null;
      }
      const draft: PipelineDraft = { spec: pipeline, layout, message: options.message };
      meta.set({ saving: true, notice: null });
      try {
        const saved = isNew ? await create.mutateAsync(draft) : await saveVersion.mutateAsync(draft);
        const key = `${project}/${saved.name}`;
        clearDraft(project, routeName);
        useMeta.getState().set({
          saving: false,
          savedJson: snapshotJson({ pipeline, layout }),
          version: saved.version,
          restoredDraft: false,
          key: isNew ? key : useMeta.getState().key,
          notice: { kind: "info", text: `saved version ${saved.version}` },
        });
        if (isNew) {
          void navigate({ to: "/pipelines/$name", params: { name: saved.name }, replace: true });
        }
        return saved.name;
      } catch (err) {
        useMeta.getState().set({ saving: false });
        showError("save", err, pipeline);
        return null;
      }
    },
    [isNew, askName, create, saveVersion, project, routeName, navigate],
  );

  /** Saved or not, the name of a saved pipeline holding the current edits. */
  const ensureSaved = useCallback(async (): Promise<string | null> => {
    const meta = useMeta.getState();
    const state = useEditor.getState();
    const dirty = snapshotJson(state) !== meta.savedJson;
    if (!isNew && !dirty) return state.pipeline.name;
    return save();
  }, [isNew, save]);

  const run = useCallback(async () => {
    const name = await ensureSaved();
    if (!name) return;
    try {
      const started = await trigger.mutateAsync({ name });
      void navigate({ to: "/runs/$runId", params: { runId: started.run_id } });
    } catch (err) {
      showError("run", err);
    }
  }, [ensureSaved, trigger, navigate]);

  const debug = useCallback(async () => {
    const tasks = useEditor.getState().selected.filter((id) => !isNoteId(id));
    if (tasks.length !== 1) {
      notify("select one task to debug it", "info");
      return;
    }
    const name = await ensureSaved();
    if (!name) return;
    try {
      const started = await debugTask.mutateAsync({ name, task: tasks[0] });
      useMeta.getState().set({ debug: { runId: started.run_id, task: started.task } });
    } catch (err) {
      showError("debug", err);
    }
  }, [ensureSaved, debugTask]);

  const fit = useCallback(() => void flow.fitView({ padding: 0.2, duration: 250, maxZoom: 1.1 }), [flow]);

  const autoLayout = useCallback(async () => {
    const { pipeline } = useEditor.getState();
    const nodes = pipeline.tasks.map((t) => ({ id: t.name, width: NODE_WIDTH, height: NODE_HEIGHT }));
    const positions = await layoutGraph(nodes, toEdges(pipeline));
    useEditor.getState().moveNodes(positions);
    requestAnimationFrame(fit);
  }, [fit]);

  const copy = useCallback(() => {
    const { pipeline, layout, selected } = useEditor.getState();
    clipboard = copyNodes(pipeline, layout, selected);
    if (clipboard) {
      notify(`copied ${selected.length} node${selected.length > 1 ? "s" : ""}`, "info");
    }
  }, []);
  const paste = useCallback(() => {
    if (clipboard) useEditor.getState().paste(clipboard);
  }, []);
  const duplicate = useCallback(() => {
    const { selected, duplicate: dup } = useEditor.getState();
    dup(selected);
  }, []);

  const exportAs = useCallback((format: "yaml" | "json") => {
    const { pipeline } = useEditor.getState();
    const text = format === "yaml" ? toYaml(pipeline) : `${JSON.stringify(pipeline, null, 2)}\n`;
    const type = format === "yaml" ? "application/yaml" : "application/json";
    const url = URL.createObjectURL(new Blob([text], { type }));
    const link = document.createElement("a");
    link.href = url;
    link.download = `${pipeline.name || "pipeline"}.${format}`;
    link.click();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  }, []);

  const importText = useCallback(async (text: string, source: string) => {
    const parsed = fromYaml(text);
    if (!parsed.ok) {
      const where = parsed.line ? ` (line ${parsed.line})` : "";
      notify(`import ${source}: ${parsed.message}${where}`);
      return;
    }
    const { layout } = useEditor.getState();
    const ready = await withLayout({ pipeline: parsed.pipeline, layout });
    useEditor.getState().replace(ready.pipeline, ready.layout);
    notify(`imported ${source} (undo with Ctrl+Z)`, "info");
    requestAnimationFrame(fit);
  }, [fit]);

  return useMemo(
    () => ({ save, run, debug, fit, autoLayout, copy, paste, duplicate, exportAs, importText }),
    [save, run, debug, fit, autoLayout, copy, paste, duplicate, exportAs, importText],
  );
}

export type EditorActions = ReturnType<typeof useEditorActions>;

function showError(what: string, err: unknown, pipeline?: Parameters<typeof sortErrors>[1]) {
  if (err instanceof ApiError) {
    if (pipeline && err.status === 422 && err.details.length) {
      useMeta.getState().set({ errors: sortErrors(err.details, pipeline) });
    }
    notify(`${what} refused: ${err.message}`);
  } else {
    notify(`${what} failed: ${err instanceof Error ? err.message : String(err)}`);
  }
}
