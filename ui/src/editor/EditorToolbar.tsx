// The bar above the canvas: the pipeline's name and save badge, then the commands.
import { useRef } from "react";
import { useStore } from "zustand";

import { useMeta } from "./meta";
import { redo, undo, useEditor } from "./store";
import type { EditorActions } from "./useEditorActions";

export type SaveState = "saved" | "unsaved" | "saving";

export function SaveBadge({ state }: { state: SaveState }) {
  return (
    <span className={`badge save-badge save-${state}`} data-testid="save-badge" aria-live="polite">
      {state}
    </span>
  );
}

interface Props {
  actions: EditorActions;
  saveState: SaveState;
  isNew: boolean;
  onSaveAs: () => void;
  onVersions: () => void;
  onHelp: () => void;
}

export function EditorToolbar({ actions, saveState, isNew, onSaveAs, onVersions, onHelp }: Props) {
  const name = useEditor((s) => s.pipeline.name);
  const oneTask = useEditor((s) => s.selected.length === 1 && !s.selected[0].startsWith("note:"));
  const canUndo = useStore(useEditor.temporal, (s) => s.pastStates.length > 0);
  const canRedo = useStore(useEditor.temporal, (s) => s.futureStates.length > 0);
  const version = useMeta((s) => s.version);
  const file = useRef<HTMLInputElement>(null);
  const saving = saveState === "saving";
  return (
    <div className="editor-toolbar" role="toolbar" aria-label="Editor">
      <strong className="editor-name" data-testid="pipeline-name">
        {name || (isNew ? "new pipeline" : "")}
      </strong>
      {version > 0 ? <span className="hint">v{version}</span> : null}
      <SaveBadge state={saveState} />
      <span className="spacer" />
      <button type="button" onClick={undo} disabled={!canUndo} title="Undo (Ctrl+Z)">
        Undo
      </button>
      <button type="button" onClick={redo} disabled={!canRedo} title="Redo (Ctrl+Shift+Z)">
        Redo
      </button>
      <button type="button" onClick={() => void actions.autoLayout()} title="Auto-layout (L)">
        Layout
      </button>
      <button type="button" onClick={actions.fit} title="Fit to view (F)">
        Fit
      </button>
      <details className="menu">
        <summary aria-label="Export or import">File</summary>
        <div className="menu-items">
          <button type="button" onClick={() => actions.exportAs("yaml")}>
            Export YAML
          </button>
          <button type="button" onClick={() => actions.exportAs("json")}>
            Export JSON
          </button>
          <button type="button" onClick={() => file.current?.click()}>
            Import YAML/JSON…
          </button>
        </div>
      </details>
      <input
        ref={file}
        type="file"
        accept=".yaml,.yml,.json,application/json,application/yaml,text/yaml"
        hidden
        data-testid="import-file"
        onChange={(event) => {
          const chosen = event.target.files?.[0];
          event.target.value = "";
          if (chosen) void chosen.text().then((text) => actions.importText(text, chosen.name));
        }}
      />
      <button type="button" onClick={onVersions} disabled={isNew} title="Version history">
        Versions
      </button>
      <button
        type="button"
        onClick={() => void actions.debug()}
        disabled={!oneTask || saving}
        title="Save, then run the selected task alone"
      >
        Debug
      </button>
      <button type="button" onClick={() => void actions.run()} disabled={saving} title="Save and run (Ctrl+Enter)">
        Run
      </button>
      <div className="split">
        <button
          type="button"
          className="primary"
          onClick={() => void actions.save()}
          disabled={saving}
          title="Save a version (Ctrl+S)"
        >
          {saving ? "Saving…" : "Save"}
        </button>
        <button
          type="button"
          className="primary"
          aria-label="Save with a message"
          onClick={onSaveAs}
          disabled={saving}
        >
          ▾
        </button>
      </div>
      <button type="button" className="ghost" aria-label="Keyboard shortcuts" onClick={onHelp}>
        ?
      </button>
    </div>
  );
}
