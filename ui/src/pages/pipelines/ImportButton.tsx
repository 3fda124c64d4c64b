// Import a pipeline from a YAML or JSON file: it is created as a new pipeline (POST) and
// opened in the editor; the server's message (a name taken, a field wrong) shows inline.
import { useNavigate } from "@tanstack/react-router";
import { useRef, useState, type ChangeEvent } from "react";

import { ApiError } from "../../api/http";
import { useCanEdit, useImportPipeline } from "../../api/pipelineList";

export function ImportButton() {
  const input = useRef<HTMLInputElement>(null);
  const importer = useImportPipeline();
  const canEdit = useCanEdit();
  const navigate = useNavigate();
  const [problem, setProblem] = useState("");
  const chosen = async (event: ChangeEvent<HTMLInputElement>) => {
    const file = event.target.files?.[0];
    event.target.value = "";
    if (!file) return;
    setProblem("");
    try {
      const saved = await importer.mutateAsync({ fileName: file.name, text: await file.text() });
      void navigate({ to: "/pipelines/$name", params: { name: saved.name } });
    } catch (err) {
      setProblem(importProblem(file.name, err));
    }
  };
  return (
    <>
      <button
        type="button"
        onClick={() => input.current?.click()}
        disabled={importer.isPending || !canEdit}
        title={canEdit ? "a pipeline's YAML or JSON file" : "importing needs the developer role"}
      >
        {importer.isPending ? "Importing…" : "Import…"}
      </button>
      <input
        ref={input}
        type="file"
        accept=".yaml,.yml,.json,application/json,application/yaml,text/yaml"
        hidden
        aria-label="Pipeline file to import"
        data-testid="import-file"
        onChange={(e) => void chosen(e)}
      />
      {problem && (
        <span className="error import-error" role="alert">
          {problem}
        </span>
      )}
    </>
  );
}

function importProblem(fileName: string, err: unknown): string {
  if (err instanceof ApiError && err.details.length > 0) {
    const first = err.details[0];
    const more = err.details.length > 1 ? ` (and ${err.details.length - 1} more)` : "";
    return `${fileName}: ${first.field ? `${first.field}: ` : ""}${first.message}${more}`;
  }
  return `${fileName}: ${(err as Error).message}`;
}
