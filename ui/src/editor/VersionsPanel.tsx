// Version history: every saved version, a visual diff of two of them (the server's unified
// diff, added lines green, removed red) and restore (the version loaded as unsaved edits).
import { useQueryClient } from "@tanstack/react-query";
import { useState } from "react";

import { unwrap } from "../api/http";
import { keys } from "../api/keys";
import { usePipelineDiff, usePipelineVersions } from "../api/pipelines";
import { useSession } from "../auth/session";
import { pipelinesGetVersion } from "../client/sdk.gen";
import { notify } from "./meta";
import { normalizeLayout, useEditor } from "./store";
import type { PipelineJson } from "./types";
import { withLayout } from "./useEditorSession";

export function VersionsPanel({ name, onClose }: { name: string; onClose: () => void }) {
  const project = useSession((s) => s.project);
  const queries = useQueryClient();
  const versions = usePipelineVersions(name);
  const list = versions.data ?? [];
  const latest = list.length ? Math.max(...list.map((v) => v.version)) : undefined;
  const [pair, setPair] = useState<{ from?: number; to?: number }>({});
  const to = pair.to ?? latest;
  const from = pair.from ?? (latest && latest > 1 ? latest - 1 : undefined);

  const restore = async (version: number) => {
    try {
      const found = await queries.fetchQuery({
        queryKey: keys.version(project, name, version),
        queryFn: () => unwrap(pipelinesGetVersion({ path: { project, name, version } })),
        staleTime: Infinity,
      });
      const ready = await withLayout({
        pipeline: found.spec as unknown as PipelineJson,
        layout: normalizeLayout(found.layout),
      });
      useEditor.getState().replace(ready.pipeline, ready.layout);
      notify(`restored version ${version} as unsaved edits: save to keep it`, "info");
      onClose();
    } catch (err) {
      notify(`restore failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  };

  return (
    <div className="drawer" role="dialog" aria-label="Version history" data-testid="versions">
      <div className="row drawer-head">
        <h2>Versions</h2>
        <span className="spacer" />
        <button type="button" className="ghost" aria-label="Close" onClick={onClose}>
          ✕
        </button>
      </div>
      {versions.error ? <p className="error">{versions.error.message}</p> : null}
      {versions.isPending ? <p className="hint">Loading…</p> : null}
      <table className="list versions-list">
        <thead>
          <tr>
            <th>from</th>
            <th>to</th>
            <th>version</th>
            <th>saved</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {list.map((v) => (
            <tr key={v.version}>
              <td>
                <input
                  type="radio"
                  name="diff-from"
                  aria-label={`diff from version ${v.version}`}
                  checked={from === v.version}
                  onChange={() => setPair({ from: v.version, to })}
                />
              </td>
              <td>
                <input
                  type="radio"
                  name="diff-to"
                  aria-label={`diff to version ${v.version}`}
                  checked={to === v.version}
                  onChange={() => setPair({ from, to: v.version })}
                />
              </td>
              <td>
                <strong>v{v.version}</strong>
                <div className="hint">{v.message || "—"}</div>
              </td>
              <td className="hint">
                {v.author}
                <br />
                {new Date(v.created_at).toLocaleString()}
              </td>
              <td>
                <button type="button" onClick={() => void restore(v.version)}>
                  Restore
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <VersionDiffView name={name} from={from} to={to} />
    </div>
  );
}

function VersionDiffView({ name, from, to }: { name: string; from?: number; to?: number }) {
  const diff = usePipelineDiff(name, from, to);
  if (!from || !to) return <p className="hint">Save at least two versions to compare them.</p>;
  if (from === to) return <p className="hint">Choose two different versions to compare.</p>;
  if (diff.error) return <p className="error">{diff.error.message}</p>;
  if (!diff.data) return <p className="hint">Loading the diff…</p>;
  const { tasks, settings_changed: settings, unified } = diff.data;
  return (
    <div className="diff" data-testid="version-diff">
      <h3>
        v{from} → v{to}
      </h3>
      <p className="hint">
        tasks added: {tasks.added.join(", ") || "none"} · removed: {tasks.removed.join(", ") || "none"}
        {" · "}changed: {tasks.changed.join(", ") || "none"} · settings changed:{" "}
        {settings.join(", ") || "none"}
      </p>
      {unified ? (
        <pre className="diff-lines">
          {unified.split("\n").map((line, i) => (
            <div key={i} className={diffClass(line)}>
              {line || " "}
            </div>
          ))}
        </pre>
      ) : (
        <p className="hint">The two versions are the same.</p>
      )}
    </div>
  );
}

function diffClass(line: string): string {
  if (line.startsWith("+++") || line.startsWith("---")) return "diff-file";
  if (line.startsWith("@@")) return "diff-hunk";
  if (line.startsWith("+")) return "diff-add";
  if (line.startsWith("-")) return "diff-del";
  return "";
}
