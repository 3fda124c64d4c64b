// One pipeline in the list: name (to the editor), description, version, last run, schedule,
// and the actions Run, Right-size, Copy and Delete (the last three open a panel below the row).
import { Link, useNavigate } from "@tanstack/react-router";
import { useState } from "react";

import { useCanEdit, useRunPipeline, type PipelineRow as Row } from "../../api/pipelineList";
import { Status } from "../../components/Status";
import { CopyForm, DeleteConfirm } from "./PipelineActions";
import { RightsizePanel } from "./RightsizePanel";
import { ScheduleCell } from "./ScheduleCell";
import { exactTime, timeAgo } from "./when";

const COLUMNS = 6;
export const VIEWER = "needs the developer role in this project";

export function PipelineRow({ pipeline }: { pipeline: Row }) {
  const [open, setOpen] = useState<"rightsize" | "copy" | "delete" | null>(null);
  const run = useRunPipeline();
  const canEdit = useCanEdit();
  const viewerOnly = canEdit ? undefined : VIEWER;
  const navigate = useNavigate();
  const start = () =>
    run.mutate(pipeline.name, {
      onSuccess: (r) => void navigate({ to: "/runs/$runId", params: { runId: r.run_id } }),
    });
  const last = pipeline.last_run;
  return (
    <>
      <tr data-testid={`pipeline-row-${pipeline.name}`}>
        <td className="name">
          <Link to="/pipelines/$name" params={{ name: pipeline.name }} className="strong">
            {pipeline.name}
          </Link>
        </td>
        <td className="description" title={pipeline.description}>
          {pipeline.description || <span className="muted">—</span>}
        </td>
        <td className="num">v{pipeline.latest_version}</td>
        <td>
          {last ? (
            <div className="last-run">
              <Link to="/runs/$runId" params={{ runId: last.id }}>
                <Status status={last.status} />
              </Link>
              <span className="hint" title={exactTime(last.created_at)}>
                {timeAgo(last.created_at)}
              </span>
            </div>
          ) : (
            <span className="muted">never run</span>
          )}
        </td>
        <td>
          <ScheduleCell pipeline={pipeline} />
        </td>
        <td className="actions">
          <button
            type="button"
            onClick={start}
            disabled={!canEdit || run.isPending || pipeline.latest_version === 0}
            aria-label={`Run ${pipeline.name}`}
            title={pipeline.latest_version === 0 ? "save it in the editor first" : viewerOnly}
          >
            {run.isPending ? "Starting…" : "Run"}
          </button>
          <button
            type="button"
            onClick={() => setOpen(open === "rightsize" ? null : "rightsize")}
            disabled={pipeline.latest_version === 0}
            aria-label={`Right-size ${pipeline.name}`}
            aria-expanded={open === "rightsize"}
            title="requests suggested from the peaks of the last runs"
          >
            Right-size
          </button>
          <button
            type="button"
            onClick={() => setOpen(open === "copy" ? null : "copy")}
            disabled={!canEdit}
            title={viewerOnly}
            aria-label={`Copy ${pipeline.name}`}
            aria-expanded={open === "copy"}
          >
            Copy
          </button>
          <button
            type="button"
            className="danger"
            onClick={() => setOpen(open === "delete" ? null : "delete")}
            disabled={!canEdit}
            title={viewerOnly}
            aria-label={`Delete ${pipeline.name}`}
            aria-expanded={open === "delete"}
          >
            Delete
          </button>
        </td>
      </tr>
      {(open || run.error) && (
        <tr className="row-extra">
          <td colSpan={COLUMNS}>
            {run.error && !open && (
              <span className="error" role="alert">
                Run {pipeline.name}: {run.error.message}
              </span>
            )}
            {open === "rightsize" && (
              <RightsizePanel name={pipeline.name} onDone={() => setOpen(null)} />
            )}
            {open === "copy" && <CopyForm from={pipeline.name} onDone={() => setOpen(null)} />}
            {open === "delete" && (
              <DeleteConfirm name={pipeline.name} onDone={() => setOpen(null)} />
            )}
          </td>
        </tr>
      )}
    </>
  );
}
