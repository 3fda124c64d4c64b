// The pipelines of the current project: search (on the server), last run, schedule switch,
// run / copy / delete, and the ways to make one (new in the editor, or import a file).
import { Link } from "@tanstack/react-router";
import { useEffect, useState } from "react";

import { usePipelineList } from "../api/pipelineList";
import { ImportButton } from "./pipelines/ImportButton";
import { PipelinesTable } from "./pipelines/PipelinesTable";
import "./pipelines/pipelines.css";

export function PipelinesPage() {
  const [typed, setTyped] = useState("");
  const q = useDebounced(typed, 250);
  const list = usePipelineList(q);
  const rows = list.data ?? [];
  return (
    <div className="pipelines-page">
      <div className="toolbar">
        <h1>Pipelines</h1>
        <input
          type="search"
          placeholder="Search by name"
          aria-label="Search pipelines"
          value={typed}
          maxLength={63}
          onChange={(e) => setTyped(e.target.value)}
          data-testid="pipeline-search"
        />
        <span className="spacer" />
        <ImportButton />
        <Link to="/pipelines/$name" params={{ name: "new" }} className="button primary">
          New pipeline
        </Link>
      </div>
      {list.error && (
        <p className="error-box" role="alert">
          Could not list the pipelines: {list.error.message}
        </p>
      )}
      {list.isPending && <p className="muted">Loading pipelines…</p>}
      {list.isSuccess && rows.length > 0 && <PipelinesTable pipelines={rows} />}
      {list.isSuccess && rows.length === 0 && (q ? <NoMatch q={q} /> : <NoPipelines />)}
    </div>
  );
}

function NoPipelines() {
  return (
    <div className="card empty" data-testid="pipelines-empty">
      <strong>No pipelines yet</strong>
      <p>Build one on the canvas from the template palette, or import a YAML or JSON file.</p>
      <div className="row center">
        <Link to="/pipelines/$name" params={{ name: "new" }} className="button primary">
          New pipeline
        </Link>
        <ImportButton />
      </div>
    </div>
  );
}

function NoMatch({ q }: { q: string }) {
  return (
    <div className="card empty" data-testid="pipelines-no-match">
      <strong>No pipeline matches “{q}”</strong>
      <p>The search looks for part of a pipeline's name.</p>
    </div>
  );
}

function useDebounced<T>(value: T, ms: number): T {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setSettled(value), ms);
    return () => clearTimeout(timer);
  }, [value, ms]);
  return settled;
}
