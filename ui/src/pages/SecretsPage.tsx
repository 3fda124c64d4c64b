// The project's secrets: names only. Developers and admins list, set and delete them; a
// viewer is told, in the server's words, why they see none.
import { ApiError } from "../api/http";
import { useSecrets } from "../api/secrets";
import { useSession } from "../auth/session";
import { SecretsTable } from "./secrets/SecretsTable";
import { SetSecretForm } from "./secrets/SetSecretForm";
import "./pipelines/pipelines.css";
import "./templates/templates.css";
import "./secrets/secrets.css";

export function SecretsPage() {
  const project = useSession((s) => s.project);
  const secrets = useSecrets();
  const error = secrets.error;
  const refused = error instanceof ApiError && (error.status === 403 || error.status === 404);
  return (
    <div className="secrets-page">
      <div className="toolbar">
        <h1>Secrets</h1>
        <span className="hint">of project {project} — names only, values are never shown</span>
      </div>
      {refused && (
        <div className="card empty" role="alert" data-testid="secrets-refused">
          <strong>You cannot see this project's secrets</strong>
          <p>{error.message}</p>
          <p>A project admin can give you the developer role.</p>
        </div>
      )}
      {error && !refused && (
        <p className="error-box" role="alert">
          Could not list the secrets: {error.message}
        </p>
      )}
      {secrets.isPending && <p className="muted">Loading secrets…</p>}
      {secrets.data && (
        <div className="secrets-layout">
          <div>
            {secrets.data.length > 0 ? (
              <SecretsTable secrets={secrets.data} />
            ) : (
              <div className="card empty" data-testid="secrets-empty">
                <strong>No secrets yet</strong>
                <p>Set one with the form: an API token, a password, a key.</p>
              </div>
            )}
            <HowToUse />
          </div>
          <SetSecretForm existing={secrets.data.map((s) => s.name)} />
        </div>
      )}
    </div>
  );
}

function HowToUse() {
  return (
    <div className="card how-to">
      <h3>Use a secret in a pipeline</h3>
      <p>Give it to the tasks as an environment variable in the pipeline's <code>env</code>:</p>
      <pre className="command">{`env:\n  TOKEN: {secret: true, from_secret: HF_TOKEN}`}</pre>
      <p className="hint">
        The task sees <code>$TOKEN</code>; its value is masked in every log line. A run whose
        pipeline names a secret that is not set is refused with that name.
      </p>
    </div>
  );
}
