// Register a template in the current project: built with the form, or pasted / uploaded as
// YAML. Problems found while typing and the server's (by field path) show at their fields.
import { useState, type ChangeEvent } from "react";

import { ApiError } from "../../api/http";
import { useRegisterTemplate, type RegisteredOut } from "../../api/templates";
import { useSession } from "../../auth/session";
import { emptyBuilder, fromYaml, problems, toYaml, type BuilderState } from "./builderYaml";
import { placeServerProblems } from "./serverProblems";
import { TemplateBuilder } from "./TemplateBuilder";
import { YamlView } from "./YamlView";

interface Props {
  onRegistered: (registered: RegisteredOut) => void;
  onCancel: () => void;
}

export function RegisterTemplate({ onRegistered, onCancel }: Props) {
  const project = useSession((s) => s.project);
  const register = useRegisterTemplate();
  const [mode, setMode] = useState<"form" | "yaml">("form");
  const [state, setState] = useState<BuilderState>(emptyBuilder);
  const [text, setText] = useState("");
  const [attempted, setAttempted] = useState(false);
  const [switchProblem, setSwitchProblem] = useState("");
  const local = problems(state);
  const shown = attempted ? local : typedOnly(local, state);
  const server = register.error instanceof ApiError ? placeServerProblems(register.error.details) : null;
  const fieldProblems = { ...(server?.fields ?? {}), ...shown };

  const edit = (next: BuilderState) => {
    register.reset();
    setState(next);
  };
  const toForm = () => {
    try {
      setState(text.trim() ? fromYaml(text) : emptyBuilder());
      setSwitchProblem("");
      setMode("form");
    } catch (err) {
      setSwitchProblem((err as Error).message);
    }
  };
  const toText = () => {
    setText(toYaml(state));
    setSwitchProblem("");
    setMode("yaml");
  };
  const upload = async (event: ChangeEvent<HTMLInputElement>) => {
    const file = event.target.files?.[0];
    event.target.value = "";
    if (file) setText(await file.text());
    register.reset();
  };
  const submit = () => {
    setAttempted(true);
    if (mode === "form" && Object.keys(local).length > 0) return;
    const yaml = mode === "form" ? toYaml(state) : text;
    register.mutate(yaml, { onSuccess: onRegistered });
  };
  const general = server ? server.general : register.error ? [register.error.message] : [];
  const blocked = mode === "form" && attempted && Object.keys(local).length > 0;
  return (
    <section className="card register" aria-label="Register a template">
      <header className="row">
        <h2>Register a template in project {project}</h2>
        <span className="spacer" />
        <div className="tabs" role="tablist">
          <button type="button" role="tab" aria-selected={mode === "form"} onClick={toForm}>
            Form
          </button>
          <button type="button" role="tab" aria-selected={mode === "yaml"} onClick={toText}>
            YAML
          </button>
        </div>
      </header>
      {switchProblem && <p className="error" role="alert">{switchProblem}</p>}
      {general.length > 0 && (
        <div className="error-box" role="alert" data-testid="register-errors">
          {general.map((m) => (
            <div key={m}>{m}</div>
          ))}
        </div>
      )}
      {mode === "form" ? (
        <TemplateBuilder state={state} problems={fieldProblems} onChange={edit} />
      ) : (
        <div className="yaml-mode">
          <div className="row">
            <span className="hint">Paste the template file, or</span>
            <label className="upload">
              <input type="file" accept=".yaml,.yml,.json" onChange={(e) => void upload(e)} />
            </label>
          </div>
          <YamlView value={text} onChange={(v) => { register.reset(); setText(v); }} label="Template YAML" height="360px" />
          {server && Object.entries(server.fields).map(([field, message]) => (
            <p className="error" key={field}>{field}: {message}</p>
          ))}
        </div>
      )}
      <footer className="row">
        <button type="button" className="primary" onClick={submit} disabled={register.isPending} data-testid="register-submit">
          {register.isPending ? "Registering…" : "Register"}
        </button>
        <button type="button" className="ghost" onClick={onCancel}>
          Cancel
        </button>
        {blocked && <span className="error">Fix the fields marked in red first.</span>}
      </footer>
    </section>
  );
}

/** Before the first try, an empty name or command is not yet a problem worth showing. */
function typedOnly(found: Record<string, string>, state: BuilderState): Record<string, string> {
  const out = { ...found };
  if (state.name === "") delete out.name;
  if (state.command.trim() === "") delete out.command;
  state.parameters.forEach((row, i) => {
    if (row.name === "") delete out[`parameters[${i}].name`];
  });
  return out;
}
