// The line above the canvas: a refused connection, a failed save, a restored draft (with a
// discard button), "saved version N". Errors stay until closed; info fades after a while.
import { useEffect } from "react";

import { useSession } from "../auth/session";
import { clearDraft } from "./draft";
import { useMeta } from "./meta";

export function EditorBanner({ name }: { name: string }) {
  const notice = useMeta((s) => s.notice);
  const restored = useMeta((s) => s.restoredDraft);
  const set = useMeta((s) => s.set);
  const project = useSession((s) => s.project);
  useEffect(() => {
    if (notice?.kind !== "info") return;
    const timer = setTimeout(() => set({ notice: null }), 4000);
    return () => clearTimeout(timer);
  }, [notice, set]);
  const discard = () => {
    clearDraft(project, name);
    set({ key: "", restoredDraft: false }); // opens the saved version again
  };
  return (
    <div className="editor-banners">
      {restored ? (
        <div className="banner info" data-testid="draft-banner">
          Restored unsaved draft.
          <button type="button" className="ghost" onClick={discard}>
            Discard draft
          </button>
          <button type="button" className="ghost" onClick={() => set({ restoredDraft: false })}>
            Keep
          </button>
        </div>
      ) : null}
      {notice ? (
        <div
          className={`banner ${notice.kind}`}
          role={notice.kind === "error" ? "alert" : "status"}
          data-testid="editor-notice"
        >
          <span>{notice.text}</span>
          <button
            type="button"
            className="ghost"
            aria-label="Dismiss"
            onClick={() => set({ notice: null })}
          >
            ✕
          </button>
        </div>
      ) : null}
    </div>
  );
}
