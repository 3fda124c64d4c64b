// The pipeline's params as rows: name, type, value. Written back in the short form
// (`lr: 0.01`) unless the short form would lose something (a description, a float that
// reads as an int, a param without a value), then as {type, default, description}.
import type { FieldErrors } from "../../editor/types";
import { checkIdentifier, readNumber } from "../checks";
import { errorAt, joinMessages } from "../errors";
import { useDraft } from "../useDraft";

type ParamType = "str" | "int" | "float" | "bool";
interface Row {
  name: string;
  type: ParamType;
  text: string;
  description?: string;
}

function typeOf(value: unknown): ParamType {
  if (typeof value === "boolean") return "bool";
  if (typeof value === "number") return Number.isInteger(value) ? "int" : "float";
  return "str";
}

function toRows(params: Record<string, unknown>): Row[] {
  return Object.entries(params).map(([name, v]) => {
    if (v && typeof v === "object") {
      const spec = v as { type?: ParamType; default?: unknown; description?: string };
      const text = spec.default === undefined || spec.default === null ? "" : String(spec.default);
      return { name, type: spec.type ?? typeOf(spec.default), text, description: spec.description };
    }
    return { name, type: typeOf(v), text: v === null || v === undefined ? "" : String(v) };
  });
}

function valueOf(row: Row): { value: unknown; error?: string } {
  if (row.type === "bool") return { value: row.text === "true" };
  if (row.type === "str") return { value: row.text };
  if (row.text.trim() === "") return { value: null };
  const read = readNumber(row.text, { integer: row.type === "int" });
  return { value: read.value, error: read.error };
}

function entryOf(row: Row): unknown {
  const { value } = valueOf(row);
  const short = row.type === typeOf(value) && !row.description && value !== null;
  return short ? value : { type: row.type, default: value, ...(row.description ? { description: row.description } : {}) };
}

function fromRows(rows: Row[]): Record<string, unknown> {
  return Object.fromEntries(rows.filter((r) => r.name !== "").map((r) => [r.name, entryOf(r)]));
}

export function ParamsRows(props: {
  value: Record<string, unknown> | undefined;
  errors: FieldErrors;
  onChange: (next: Record<string, unknown> | undefined) => void;
}) {
  const value = props.value ?? {};
  const [rows, setRows] = useDraft<Record<string, unknown>, Row[]>(value, toRows);
  const set = (next: Row[]) => {
    const params = fromRows(next);
    setRows(next, params);
    props.onChange(Object.keys(params).length ? params : undefined);
  };
  const edit = (i: number, change: Partial<Row>) => set(rows.map((r, j) => (j === i ? { ...r, ...change } : r)));
  return (
    <div className="cf-rows" role="group" aria-label="params" data-testid="pipeline-params">
      {rows.length === 0 && <p className="hint cf-empty">No params. Tasks read them as {"{{ params.NAME }}"}.</p>}
      {rows.map((row, i) => {
        const duplicate = row.name && rows.findIndex((r) => r.name === row.name) !== i ? `${row.name} is given twice` : undefined;
        const nameError = row.name || row.text ? checkIdentifier(row.name, "param") : undefined;
        const error = joinMessages(nameError, duplicate, valueOf(row).error, row.name ? errorAt(props.errors, row.name) : undefined);
        return (
          <div key={i}>
            <div className="cf-row">
              <input
                className="cf-key mono"
                aria-label={`param name ${i + 1}`}
                data-testid={`param-name-${i}`}
                placeholder="name"
                value={row.name}
                aria-invalid={error ? true : undefined}
                onChange={(e) => edit(i, { name: e.target.value })}
              />
              <select
                className="cf-type"
                aria-label={`param type ${i + 1}`}
                data-testid={`param-type-${i}`}
                value={row.type}
                onChange={(e) => {
                  const type = e.target.value as ParamType;
                  edit(i, { type, text: type === "bool" ? (row.text === "true" ? "true" : "false") : row.text });
                }}
              >
                {["str", "int", "float", "bool"].map((t) => (
                  <option key={t}>{t}</option>
                ))}
              </select>
              {row.type === "bool" ? (
                <select
                  aria-label={`param value ${i + 1}`}
                  data-testid={`param-value-${i}`}
                  value={row.text === "true" ? "true" : "false"}
                  onChange={(e) => edit(i, { text: e.target.value })}
                >
                  <option>true</option>
                  <option>false</option>
                </select>
              ) : (
                <input
                  aria-label={`param value ${i + 1}`}
                  data-testid={`param-value-${i}`}
                  placeholder="value"
                  inputMode={row.type === "str" ? undefined : "decimal"}
                  value={row.text}
                  onChange={(e) => edit(i, { text: e.target.value })}
                />
              )}
              <button type="button" className="ghost cf-icon" aria-label={`remove param ${i + 1}`} onClick={() => set(rows.filter((_, j) => j !== i))}>
                ×
              </button>
            </div>
            {error && <p className="error cf-row-error">{error}</p>}
          </div>
        );
      })}
      <div className="cf-row">
        <button type="button" className="ghost cf-add" onClick={() => setRows([...rows, { name: "", type: "str", text: "" }], value)}>
          + add param
        </button>
      </div>
    </div>
  );
}
