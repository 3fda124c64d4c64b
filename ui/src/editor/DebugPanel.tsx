// The live log of a debug run (one task run alone), under the canvas.
import { Link } from "@tanstack/react-router";

import { LogPanel } from "../run/LogPanel";
import { useMeta } from "./meta";

export function DebugPanel() {
  const debug = useMeta((s) => s.debug);
  const set = useMeta((s) => s.set);
  if (!debug) return null;
  return (
    <section className="debug-panel" aria-label="Debug log" data-testid="debug-panel">
      <div className="row debug-head">
        <strong>Debug: {debug.task}</strong>
        <Link to="/runs/$runId" params={{ runId: debug.runId }} className="hint">
          run {debug.runId.slice(0, 8)}
        </Link>
        <span className="spacer" />
        <button type="button" className="ghost" aria-label="Close the debug log" onClick={() => set({ debug: null })}>
          ✕
        </button>
      </div>
      <div className="debug-body">
        <LogPanel key={debug.runId} runId={debug.runId} task={debug.task} follow />
      </div>
    </section>
  );
}
