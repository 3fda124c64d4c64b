// A template's versions, newest first; a version no run or schedule uses can be deleted
// (inline confirm; the server's refusal, e.g. which runs use it, shows beside it).
import { useState } from "react";

import { useDeleteTemplateVersion, useTemplateVersions } from "../../api/templates";
import { exactTime, timeAgo } from "../pipelines/when";

export function TemplateVersions({ name, canDelete }: { name: string; canDelete: boolean }) {
  const versions = useTemplateVersions(name);
  const remove = useDeleteTemplateVersion();
  const [asking, setAsking] = useState<number | null>(null);
  if (versions.error) return <p className="error">{versions.error.message}</p>;
  if (!versions.data) return <p className="muted">Loading versions…</p>;
  return (
    <ul className="versions" data-testid="template-versions">
      {versions.data.map((v) => (
        <li key={v.version} className={v.deleted ? "deleted" : undefined}>
          <span className="num">v{v.version}</span>
          <span>{v.creator}</span>
          <span className="hint" title={exactTime(v.created_at)}>
            {timeAgo(v.created_at)}
          </span>
          {v.deleted && <span className="badge">deleted by {v.deleted_by}</span>}
          <span className="spacer" />
          {!v.deleted && canDelete && asking !== v.version && (
            <button
              type="button"
              className="danger small"
              aria-label={`Delete version ${v.version}`}
              onClick={() => {
                remove.reset();
                setAsking(v.version);
              }}
            >
              Delete
            </button>
          )}
          {asking === v.version && (
            <span className="row">
              Delete v{v.version}?
              <button
                type="button"
                className="danger small"
                disabled={remove.isPending}
                data-testid="confirm-delete-version"
                onClick={() =>
                  remove.mutate({ name, version: v.version }, { onSuccess: () => setAsking(null) })
                }
              >
                Delete
              </button>
              <button type="button" className="ghost small" onClick={() => setAsking(null)}>
                Cancel
              </button>
            </span>
          )}
          {asking === v.version && remove.error && (
            <p className="error version-error" role="alert">
              {remove.error.message}
            </p>
          )}
        </li>
      ))}
    </ul>
  );
}
