// Save with a message, and the name a new pipeline needs on its first save.
import { type FormEvent, useState } from "react";

import { useEditor } from "./store";

const PIPELINE_NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

interface Props {
  isNew: boolean;
  onSave: (options: { name?: string; message?: string }) => void;
  onClose: () => void;
}

export function SaveDialog({ isNew, onSave, onClose }: Props) {
  const current = useEditor((s) => s.pipeline.name);
  const [name, setName] = useState(current);
  const [message, setMessage] = useState("");
  const nameProblem =
    isNew && !PIPELINE_NAME.test(name)
      ? "lowercase letters, digits and -, starting and ending with a letter or digit"
      : null;
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (nameProblem) return;
    onSave({ name: isNew ? name : undefined, message: message.trim() || undefined });
  };
  return (
    <form className="card save-dialog" aria-label="Save" onSubmit={submit}>
      <h3>{isNew ? "Save the new pipeline" : "Save a version"}</h3>
      {isNew ? (
        <label>
          Name
          <input
            name="pipeline-name"
            autoFocus
            value={name}
            aria-invalid={Boolean(nameProblem && name)}
            onChange={(event) => setName(event.target.value)}
            placeholder="my-pipeline"
          />
          {name && nameProblem ? <span className="error">{nameProblem}</span> : null}
        </label>
      ) : null}
      <label>
        Message <span className="hint">(optional)</span>
        <input
          name="save-message"
          autoFocus={!isNew}
          value={message}
          onChange={(event) => setMessage(event.target.value)}
          placeholder="what changed"
        />
      </label>
      <div className="row">
        <span className="spacer" />
        <button type="button" onClick={onClose}>
          Cancel
        </button>
        <button type="submit" className="primary" disabled={Boolean(nameProblem)}>
          Save
        </button>
      </div>
    </form>
  );
}
