// The panel on the right: the selected node's settings (from the node type registry), a
// summary when several are selected, or the pipeline's settings when nothing is.
import { useSchedulePreview } from "../api/pipelines";
import { PipelineSettingsPanel } from "../forms/PipelineSettingsPanel";
import { useMeta } from "./meta";
import { kindOf, nodeKinds } from "./nodeTypes";
import { useEditor } from "./store";

export function SidePanel({ savedName, dirty }: { savedName?: string; dirty: boolean }) {
  const selected = useEditor((s) => s.selected);
  const remove = useEditor((s) => s.remove);
  if (selected.length === 1) {
    const { Panel } = nodeKinds[kindOf(selected[0])];
    return (
      <aside className="side-panel" aria-label="Settings" data-testid="side-panel">
        <Panel id={selected[0]} />
      </aside>
    );
  }
  if (selected.length > 1) {
    return (
      <aside className="side-panel" aria-label="Settings" data-testid="side-panel">
        <div className="panel-section">
          <h2>{selected.length} nodes selected</h2>
          <p className="hint">
            Ctrl+C copies them, Ctrl+D duplicates them, Delete removes them; Esc clears the
            selection.
          </p>
          <button type="button" className="danger" onClick={() => remove(selected)}>
            Delete {selected.length} nodes
          </button>
        </div>
      </aside>
    );
  }
  return (
    <aside className="side-panel" aria-label="Settings" data-testid="side-panel">
      <PipelinePanel savedName={savedName} dirty={dirty} />
    </aside>
  );
}

function PipelinePanel({ savedName, dirty }: { savedName?: string; dirty: boolean }) {
  const pipeline = useEditor((s) => s.pipeline);
  const updateSettings = useEditor((s) => s.updateSettings);
  const errors = useMeta((s) => s.errors.pipeline);
  const general = useMeta((s) => s.errors.general);
  const preview = useSchedulePreview(savedName, Boolean(pipeline.schedule));
  return (
    <>
      {general.length > 0 ? (
        <div className="error-box panel-general" data-testid="pipeline-problems">
          {general.map((message) => (
            <div key={message}>{message}</div>
          ))}
        </div>
      ) : null}
      <div className="side-panel-form">
        <PipelineSettingsPanel
          pipeline={pipeline}
          errors={errors}
          onChange={updateSettings}
          schedulePreview={pipeline.schedule ? preview.data?.next : undefined}
        />
      </div>
      {pipeline.schedule && (dirty || !savedName) ? (
        <p className="hint panel-note" data-testid="schedule-preview-note">
          {savedName
            ? "The next run times shown are those of the saved version: save to see the new ones."
            : "Save the pipeline to see its next run times."}
        </p>
      ) : null}
    </>
  );
}
