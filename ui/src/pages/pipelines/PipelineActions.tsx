// The inline forms under a pipeline's row: copy it under a new name, or confirm deleting it.
import { useNavigate } from "@tanstack/react-router";
import { useState, type FormEvent } from "react";

import { useCopyPipeline, useDeletePipeline } from "../../api/pipelineList";

const NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

export function nameProblem(name: string): string {
  if (!name) return "give the new pipeline a name";
  if (!NAME.test(name)) return "use lowercase letters, digits and '-' (e.g. 'daily-train')";
  return "";
}

export function CopyForm({ from, onDone }: { from: string; onDone: () => void }) {
  const [to, setTo] = useState(`${from}-copy`.slice(0, 63));
  const copy = useCopyPipeline();
  const navigate = useNavigate();
  const problem = nameProblem(to);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (problem) return;
    copy.mutate(
      { from, to },
      { onSuccess: () => void navigate({ to: "/pipelines/$name", params: { name: to } }) },
    );
  };
  return (
    <form className="inline-form" onSubmit={submit} aria-label={`Copy ${from}`}>
      <label className="inline-label">
        Copy <strong>{from}</strong> as
        <input
          autoFocus
          value={to}
          onChange={(e) => setTo(e.target.value.trim())}
          aria-invalid={Boolean(problem)}
          aria-label="New pipeline name"
          data-testid="copy-name"
        />
      </label>
      <button type="submit" className="primary" disabled={Boolean(problem) || copy.isPending}>
        {copy.isPending ? "Copying…" : "Copy"}
      </button>
      <button type="button" className="ghost" onClick={onDone}>
        Cancel
      </button>
      {(problem || copy.error) && (
        <span className="error" role="alert">
          {problem || copy.error?.message}
        </span>
      )}
    </form>
  );
}

export function DeleteConfirm({ name, onDone }: { name: string; onDone: () => void }) {
  const remove = useDeletePipeline();
  return (
    <div className="inline-form" role="group" aria-label={`Delete ${name}`}>
      <span>
        Delete <strong>{name}</strong>? Its schedule is paused; its runs are kept, read-only, in
        the runs list. Saving the name again brings it back with its versions.
      </span>
      <button
        type="button"
        className="danger"
        disabled={remove.isPending}
        onClick={() => remove.mutate(name, { onSuccess: onDone })}
        data-testid="confirm-delete"
      >
        {remove.isPending ? "Deleting…" : "Delete"}
      </button>
      <button type="button" className="ghost" onClick={onDone}>
        Cancel
      </button>
      {remove.error && (
        <span className="error" role="alert">
          {remove.error.message}
        </span>
      )}
    </div>
  );
}
