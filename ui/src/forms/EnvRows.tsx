// Environment variables as name / value rows. With `secrets`, a row can instead take its
// value from a project secret ({secret: true, from_secret: NAME}), from the starter's
// environment (from_env) or hold a masked inline value.
import { checkIdentifier } from "./checks";
import { errorAt, joinMessages } from "./errors";
import type { FieldErrors } from "../editor/types";
import { useDraft } from "./useDraft";

type Mode = "value" | "from_secret" | "from_env" | "secret";
interface Row {
  key: string;
  mode: Mode;
  text: string;
}

const MODES: [Mode, string][] = [
  ["value", "value"],
  ["from_secret", "project secret"],
  ["from_env", "from env"],
  ["secret", "secret value"],
];

function toRows(env: Record<string, unknown>): Row[] {
  return Object.entries(env).map(([key, v]) => {
    if (v && typeof v === "object") {
      const s = v as Record<string, unknown>;
      if (s.from_secret !== undefined) return { key, mode: "from_secret", text: String(s.from_secret) };
      if (s.from_env !== undefined) return { key, mode: "from_env", text: String(s.from_env) };
      return { key, mode: "secret", text: String(s.value ?? "") };
    }
    return { key, mode: "value", text: v === undefined || v === null ? "" : String(v) };
  });
}

function entryOf(row: Row): unknown {
  if (row.mode === "value") return row.text;
  if (row.mode === "secret") return { secret: true, value: row.text };
  return { secret: true, [row.mode]: row.text };
}

function fromRows(rows: Row[]): Record<string, unknown> {
  return Object.fromEntries(rows.filter((r) => r.key !== "").map((r) => [r.key, entryOf(r)]));
}

export function EnvRows(props: {
  label: string;
  value: Record<string, unknown> | undefined;
  /** Keyed by variable name (the part after "env."). */
  errors: FieldErrors;
  onChange: (next: Record<string, unknown> | undefined) => void;
  secrets?: boolean;
  secretNames?: string[];
  listId?: string;
  testId: string;
}) {
  const value = props.value ?? {};
  const [rows, setRows] = useDraft<Record<string, unknown>, Row[]>(value, toRows);
  const set = (next: Row[]) => {
    const env = fromRows(next);
    setRows(next, env);
    props.onChange(Object.keys(env).length ? env : undefined);
  };
  const edit = (i: number, change: Partial<Row>) => set(rows.map((r, j) => (j === i ? { ...r, ...change } : r)));
  return (
    <div className="cf-rows" role="group" aria-label={props.label} data-testid={props.testId}>
      {rows.length === 0 && <p className="hint cf-empty">No variables.</p>}
      {rows.map((row, i) => {
        const duplicate = row.key && rows.findIndex((r) => r.key === row.key) !== i ? `${row.key} is given twice` : undefined;
        const keyError = row.key || row.text ? checkIdentifier(row.key, "variable") : undefined;
        const error = joinMessages(keyError, duplicate, row.key ? errorAt(props.errors, row.key) : undefined);
        return (
          <div key={i}>
            <div className="cf-row">
              <input
                className="cf-key mono"
                aria-label={`${props.label} name ${i + 1}`}
                data-testid={`${props.testId}-key-${i}`}
                placeholder="NAME"
                value={row.key}
                aria-invalid={error ? true : undefined}
                onChange={(e) => edit(i, { key: e.target.value })}
              />
              {props.secrets && (
                <select
                  className="cf-mode"
                  aria-label={`${props.label} source ${i + 1}`}
                  data-testid={`${props.testId}-mode-${i}`}
                  value={row.mode}
                  onChange={(e) => edit(i, { mode: e.target.value as Mode })}
                >
                  {MODES.map(([mode, text]) => (
                    <option key={mode} value={mode}>
                      {text}
                    </option>
                  ))}
                </select>
              )}
              <input
                aria-label={`${props.label} value ${i + 1}`}
                data-testid={`${props.testId}-value-${i}`}
                type={row.mode === "secret" ? "password" : "text"}
                list={row.mode === "from_secret" ? props.listId : undefined}
                placeholder={row.mode === "from_secret" ? "secret name" : row.mode === "from_env" ? "VARIABLE" : "value"}
                value={row.text}
                onChange={(e) => edit(i, { text: e.target.value })}
              />
              <button
                type="button"
                className="ghost cf-icon"
                aria-label={`remove ${props.label} ${i + 1}`}
                onClick={() => set(rows.filter((_, j) => j !== i))}
              >
                ×
              </button>
            </div>
            {error && <p className="error cf-row-error">{error}</p>}
          </div>
        );
      })}
      <div className="cf-row">
        <button
          type="button"
          className="ghost cf-add"
          onClick={() => setRows([...rows, { key: "", mode: "value", text: "" }], value)}
        >
          + add variable
        </button>
      </div>
      {props.secrets && props.listId && (
        <datalist id={props.listId}>
          {(props.secretNames ?? []).map((name) => (
            <option key={name} value={name} />
          ))}
        </datalist>
      )}
    </div>
  );
}
