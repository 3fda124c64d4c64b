// The editor's keyboard shortcuts: one list, used by the key handler and the help overlay.
import { useEffect } from "react";

import { redo, undo } from "./store";
import type { EditorActions } from "./useEditorActions";

export interface Shortcut {
  keys: string;
  what: string;
}

export const SHORTCUTS: Shortcut[] = [
  { keys: "Delete / Backspace", what: "delete the selected nodes and edges" },
  { keys: "Ctrl+C / Ctrl+V", what: "copy / paste the selected nodes" },
  { keys: "Ctrl+D", what: "duplicate the selected nodes" },
  { keys: "Ctrl+Z", what: "undo" },
  { keys: "Ctrl+Shift+Z / Ctrl+Y", what: "redo" },
  { keys: "Shift+drag / Shift+click", what: "select several nodes" },
  { keys: "L", what: "lay the graph out automatically" },
  { keys: "F", what: "fit the graph into view" },
  { keys: "Ctrl+S", what: "save a version" },
  { keys: "Ctrl+Enter", what: "save and run" },
  { keys: "?", what: "show or hide this help" },
  { keys: "Esc", what: "close this help / clear the selection" },
];

function typing(target: EventTarget | null): boolean {
  const el = target as HTMLElement | null;
  if (!el) return false;
  return (
    el.isContentEditable ||
    ["INPUT", "TEXTAREA", "SELECT"].includes(el.tagName) ||
    el.closest(".cm-editor") !== null
  );
}

export function useShortcuts(actions: EditorActions, toggleHelp: () => void, closeAll: () => void) {
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      const mod = event.ctrlKey || event.metaKey;
      const key = event.key.toLowerCase();
      // Save and run work everywhere, even while typing in a field.
      if (mod && key === "s") {
        event.preventDefault();
        void actions.save();
        return;
      }
      if (mod && key === "enter") {
        event.preventDefault();
        void actions.run();
        return;
      }
      if (typing(event.target)) return;
      if (mod && key === "z") {
        event.preventDefault();
        if (event.shiftKey) redo();
        else undo();
      } else if (mod && key === "y") {
        event.preventDefault();
        redo();
      } else if (mod && key === "c") {
        actions.copy();
      } else if (mod && key === "v") {
        event.preventDefault();
        actions.paste();
      } else if (mod && key === "d") {
        event.preventDefault();
        actions.duplicate();
      } else if (!mod && !event.altKey && key === "l") {
        void actions.autoLayout();
      } else if (!mod && !event.altKey && key === "f") {
        actions.fit();
      } else if (event.key === "?") {
        toggleHelp();
      } else if (event.key === "Escape") {
        closeAll();
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [actions, toggleHelp, closeAll]);
}
