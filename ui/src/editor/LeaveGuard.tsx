// Leaving the editor for another page of the app with unsaved edits asks first, inline (the
// browser's own dialog covers reloads and closing the tab: useDraftGuard). Either way the
// draft stays in this browser and comes back when the pipeline is opened again.
import { useBlocker } from "@tanstack/react-router";

import { snapshotJson, useMeta } from "./meta";
import { useEditor } from "./store";

function unsaved(): boolean {
  const meta = useMeta.getState();
  if (meta.key === "" || meta.saving) return false;
  const { pipeline, layout } = useEditor.getState();
  return snapshotJson({ pipeline, layout }) !== meta.savedJson;
}

export function LeaveGuard({ isNew }: { isNew: boolean }) {
  const blocker = useBlocker({
    // Read at the moment of leaving: a save just before (Run: save, then the run view) is seen.
    shouldBlockFn: ({ next }) =>
      unsaved() && !(isNew && next.pathname.startsWith("/pipelines/") && !next.pathname.endsWith("/new")),
    enableBeforeUnload: false,
    withResolver: true,
  });
  if (blocker.status !== "blocked") return null;
  return (
    <div className="overlay" role="dialog" aria-modal="true" aria-labelledby="leave-title">
      <div className="card save-dialog" data-testid="leave-dialog">
        <h2 id="leave-title">Leave with unsaved edits?</h2>
        <p className="hint">
          They are not lost: this browser keeps them as a draft, restored when you open the
          pipeline again. Save first to make them a version.
        </p>
        <div className="row">
          <span className="spacer" />
          <button type="button" onClick={blocker.reset} autoFocus>
            Stay
          </button>
          <button type="button" className="danger" onClick={blocker.proceed}>
            Leave
          </button>
        </div>
      </div>
    </div>
  );
}
