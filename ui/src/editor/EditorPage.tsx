// The pipeline editor (/pipelines/$name; "new" for a new one): the template palette on the
// left, the canvas (or the YAML) in the middle, the selected node's or the pipeline's
// settings on the right, the toolbar above. See store.ts for the state and its history.
import "./editor.css";

import { useParams } from "@tanstack/react-router";
import { ReactFlowProvider } from "@xyflow/react";
import { useCallback, useEffect, useRef, useState } from "react";

import { usePipelines } from "../api/pipelines";
import { useRunStatus } from "../run/useRunStatus";
import { DebugPanel } from "./DebugPanel";
import { EditorBanner } from "./EditorBanner";
import { EditorCanvas } from "./EditorCanvas";
import { EditorToolbar, type SaveState } from "./EditorToolbar";
import { HelpOverlay } from "./HelpOverlay";
import { LeaveGuard } from "./LeaveGuard";
import { useMeta } from "./meta";
import { TemplatePalette } from "./palette/TemplatePalette";
import { SaveDialog } from "./SaveDialog";
import { useShortcuts } from "./shortcuts";
import { SidePanel } from "./SidePanel";
import { useEditor } from "./store";
import { useEditorActions } from "./useEditorActions";
import { useDirty, useDraftGuard, useEditorSession } from "./useEditorSession";
import { useLiveValidation } from "./useLiveValidation";
import { VersionsPanel } from "./VersionsPanel";
import { YamlView } from "./YamlView";

export function EditorPage() {
  const { name } = useParams({ strict: false }) as { name?: string };
  return (
    <ReactFlowProvider>
      <Editor name={name ?? "new"} />
    </ReactFlowProvider>
  );
}

type Overlay = "save" | "versions" | "help" | null;

function Editor({ name }: { name: string }) {
  const isNew = name === "new";
  const root = useFullBleed();
  const session = useEditorSession(name);
  const dirty = useDirty();
  const saving = useMeta((s) => s.saving);
  useDraftGuard(name, dirty);
  useLiveValidation();
  const [tab, setTab] = useState<"canvas" | "yaml">("canvas");
  const [overlay, setOverlay] = useState<Overlay>(null);
  const askName = useCallback(() => setOverlay("save"), []);
  const actions = useEditorActions(name, askName);
  const toggleHelp = useCallback(() => setOverlay((o) => (o === "help" ? null : "help")), []);
  const closeAll = useCallback(() => {
    setOverlay(null);
    useEditor.getState().select([], []);
  }, []);
  useShortcuts(actions, toggleHelp, closeAll);
  const status = useLatestRunStatus(isNew ? undefined : name);
  const saveState: SaveState = saving ? "saving" : dirty || isNew ? "unsaved" : "saved";

  if (session.error) {
    return (
      <div className="editor" ref={root}>
        <div className="error-box editor-load-error">{session.error.message}</div>
      </div>
    );
  }
  if (session.loading) {
    return (
      <div className="editor" ref={root}>
        <p className="empty">Opening {isNew ? "a new pipeline" : name}…</p>
      </div>
    );
  }
  return (
    <div className="editor" ref={root} data-testid="editor">
      <LeaveGuard isNew={isNew} />
      <EditorToolbar
        actions={actions}
        saveState={saveState}
        isNew={isNew}
        onSaveAs={() => setOverlay("save")}
        onVersions={() => setOverlay("versions")}
        onHelp={toggleHelp}
      />
      <div className="editor-body">
        <TemplatePalette />
        <div className="editor-center">
          <div className="editor-tabs" role="tablist">
            <TabButton label="Canvas" active={tab === "canvas"} onClick={() => setTab("canvas")} />
            <TabButton label="YAML" active={tab === "yaml"} onClick={() => setTab("yaml")} />
          </div>
          <EditorBanner name={name} />
          {tab === "canvas" ? <EditorCanvas status={status} /> : <YamlView />}
          <DebugPanel />
        </div>
        <SidePanel savedName={isNew ? undefined : name} dirty={dirty} />
      </div>
      {overlay === "save" ? (
        <div className="overlay" onClick={() => setOverlay(null)}>
          <div onClick={(event) => event.stopPropagation()}>
            <SaveDialog
              isNew={isNew}
              onClose={() => setOverlay(null)}
              onSave={(options) => {
                setOverlay(null);
                void actions.save(options);
              }}
            />
          </div>
        </div>
      ) : null}
      {overlay === "versions" ? <VersionsPanel name={name} onClose={() => setOverlay(null)} /> : null}
      {overlay === "help" ? <HelpOverlay onClose={() => setOverlay(null)} /> : null}
    </div>
  );
}

function TabButton(props: { label: string; active: boolean; onClick: () => void }) {
  return (
    <button
      type="button"
      role="tab"
      aria-selected={props.active}
      className={props.active ? "active" : ""}
      onClick={props.onClick}
    >
      {props.label}
    </button>
  );
}

/** The live status of the pipeline's latest run, for the nodes (empty when it has none). */
function useLatestRunStatus(name: string | undefined): Record<string, string> | undefined {
  const pipelines = usePipelines();
  const runId = name ? pipelines.data?.find((p) => p.name === name)?.last_run?.id : undefined;
  const status = useRunStatus(runId);
  return runId ? status : undefined;
}

/** The shell's page without its padding while the editor shows (the shell's `.page.full`). */
function useFullBleed() {
  const root = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const page = root.current?.closest(".page");
    page?.classList.add("full");
    return () => page?.classList.remove("full");
  }, []);
  return root;
}
