// Set a secret: a name and a value (a password field). The value lives only in this form
// until it is sent; after saving it is cleared and never shown again, here or anywhere.
import { useState, type FormEvent } from "react";

import { ApiError } from "../../api/http";
import { useSetSecret } from "../../api/secrets";

const NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

export function SetSecretForm({ existing }: { existing: string[] }) {
  const [name, setName] = useState("");
  const [value, setValue] = useState("");
  const [saved, setSaved] = useState("");
  const save = useSetSecret();
  const nameProblem = name && !NAME.test(name) ? "a letter or _, then letters, digits or _ (e.g. HF_TOKEN)" : "";
  const replacing = existing.includes(name);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!name || nameProblem || !value) return;
    setSaved("");
    save.mutate(
      { name, value },
      {
        onSuccess: () => {
          setSaved(`${replacing ? "Replaced" : "Saved"} ${name}.`);
          setValue("");
          setName("");
          save.reset(); // drop the value from the mutation's state too
        },
      },
    );
  };
  const error = save.error;
  const valueProblem = error instanceof ApiError && error.field === "value" ? error.message : "";
  return (
    <form className="card secret-form" onSubmit={submit} aria-label="Set a secret" autoComplete="off">
      <h2>Set a secret</h2>
      <label>
        Name
        <input
          value={name}
          onChange={(e) => {
            setName(e.target.value.trim());
            setSaved("");
          }}
          aria-invalid={Boolean(nameProblem)}
          placeholder="HF_TOKEN"
          data-testid="secret-name"
          autoComplete="off"
        />
        {nameProblem && <span className="error">{nameProblem}</span>}
      </label>
      <label>
        Value
        <input
          type="password"
          value={value}
          onChange={(e) => setValue(e.target.value)}
          aria-invalid={Boolean(valueProblem)}
          data-testid="secret-value"
          autoComplete="new-password"
        />
        {valueProblem && <span className="error">{valueProblem}</span>}
        <span className="hint">Stored encrypted; nobody can read it back, not even you.</span>
      </label>
      <div className="row">
        <button
          type="submit"
          className="primary"
          disabled={!name || !value || Boolean(nameProblem) || save.isPending}
          data-testid="secret-save"
        >
          {save.isPending ? "Saving…" : replacing ? "Replace" : "Save"}
        </button>
        {replacing && <span className="hint">{name} exists: saving replaces its value.</span>}
      </div>
      {error && !valueProblem && (
        <p className="error" role="alert">
          {error.message}
        </p>
      )}
      {saved && (
        <p className="notice" role="status">
          {saved}
        </p>
      )}
    </form>
  );
}
