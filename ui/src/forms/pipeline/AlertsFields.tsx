// The pipeline's webhook alerts (spec/alerts.py AlertSpec): a URL, the events that call it,
// the scope (the run, its tasks or both) and, for task alerts, which tasks.
import { useId } from "react";

import type { FieldErrors } from "../../editor/types";
import { errorAt, joinMessages } from "../errors";
import { describedBy, FieldFrame } from "../Field";
import { CheckedInput, Select } from "../inputs";
import { useDraft } from "../useDraft";

export interface AlertJson {
  url: string;
  on?: string[];
  scope?: string;
  tasks?: string[];
  [key: string]: unknown;
}

const EVENTS = ["failure", "success", "timeout", "retry"];
const DEFAULT_ON = ["failure", "timeout"];
const SCOPES: [string, string][] = [
  ["run", "the run"],
  ["task", "its tasks"],
  ["both", "the run and its tasks"],
];

export function checkUrl(text: string): string | undefined {
  if (!text.trim()) return "give the webhook's https://host/path";
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return `${JSON.stringify(text)} is not a URL: write https://host/path`;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return "a webhook is posted over http:// or https:// only";
  if (url.username || url.password) return "remove user:password@ from the URL: the receiver checks X-Cube-Signature instead";
  return undefined;
}

function TasksInput(props: { id: string; tasks: string[] | undefined; error?: string; onChange: (t: string[] | undefined) => void }) {
  const { id, error } = props;
  const [text, setText] = useDraft(props.tasks, (t: string[] | undefined) => (t ?? []).join(", "));
  const help = "comma-separated, for task alerts";
  return (
    <FieldFrame id={id} label="tasks" help={help} error={error}>
      <input
        id={id}
        value={text}
        placeholder="every task"
        aria-invalid={error ? true : undefined}
        aria-describedby={describedBy(id, error, help)}
        onChange={(e) => {
          const names = e.target.value.split(",").map((t) => t.trim()).filter(Boolean);
          const next = names.length ? names : undefined;
          setText(e.target.value, next);
          props.onChange(next);
        }}
      />
    </FieldFrame>
  );
}

function AlertRow(props: { index: number; alert: AlertJson; errors: FieldErrors; onChange: (a: AlertJson | undefined) => void }) {
  const id = useId();
  const { index, alert, errors } = props;
  const path = `alerts[${index}]`;
  const on = alert.on ?? DEFAULT_ON;
  const set = (key: string, value: unknown) => props.onChange({ ...alert, [key]: value });
  return (
    <div className="cf-alert" data-testid={`alert-${index}`}>
      <div className="cf-alert-head">
        <strong>Webhook {index + 1}</strong>
        <span className="spacer" />
        <button type="button" className="ghost cf-icon" aria-label={`remove webhook ${index + 1}`} onClick={() => props.onChange(undefined)}>
          ×
        </button>
      </div>
      <CheckedInput
        id={`${id}-url`}
        label="url"
        testId={`alert-url-${index}`}
        required
        value={alert.url}
        read={(text) => ({ value: text, error: checkUrl(text) })}
        placeholder="https://hooks.example/cube"
        error={errorAt(errors, `${path}.url`)}
        onChange={(v) => set("url", v ?? "")}
      />
      <div className="cf-field" role="group" aria-label={`events of webhook ${index + 1}`}>
        <span className="cf-field-head">
          <span className="cf-label">on</span>
        </span>
        <div className="cf-events">
          {EVENTS.map((event) => (
            <label key={event}>
              <input
                type="checkbox"
                checked={on.includes(event)}
                onChange={(e) => set("on", e.target.checked ? EVENTS.filter((x) => x === event || on.includes(x)) : on.filter((x) => x !== event))}
              />
              {event}
            </label>
          ))}
        </div>
        {(on.length === 0 || errorAt(errors, `${path}.on`)) && (
          <p className="error cf-error">{joinMessages(on.length === 0 ? "pick at least one event" : undefined, errorAt(errors, `${path}.on`))}</p>
        )}
      </div>
      <div className="cf-grid-2">
        <Select
          id={`${id}-scope`}
          label="scope"
          value={alert.scope ?? "run"}
          options={SCOPES}
          error={errorAt(errors, `${path}.scope`)}
          onChange={(v) => set("scope", v)}
        />
        <TasksInput
          id={`${id}-tasks`}
          tasks={alert.tasks}
          error={errorAt(errors, `${path}.tasks`)}
          onChange={(tasks) => props.onChange({ ...alert, tasks })}
        />
      </div>
    </div>
  );
}

export function AlertsFields(props: { alerts: unknown[] | undefined; errors: FieldErrors; onChange: (next: AlertJson[] | undefined) => void }) {
  const alerts = (props.alerts ?? []) as AlertJson[];
  const update = (i: number, alert: AlertJson | undefined) => {
    const next = alert ? alerts.map((a, j) => (j === i ? alert : a)) : alerts.filter((_, j) => j !== i);
    props.onChange(next.length ? next : undefined);
  };
  return (
    <div className="cf-rows" data-testid="pipeline-alerts">
      {alerts.length === 0 && <p className="hint cf-empty">No webhooks. Add one to hear about failures.</p>}
      {alerts.map((alert, i) => (
        <AlertRow key={i} index={i} alert={alert} errors={props.errors} onChange={(a) => update(i, a)} />
      ))}
      <div className="cf-row">
        <button type="button" className="ghost cf-add" onClick={() => props.onChange([...alerts, { url: "", on: DEFAULT_ON }])}>
          + add webhook
        </button>
      </div>
    </div>
  );
}
