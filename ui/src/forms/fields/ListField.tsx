// A list: one row per item, with add and remove. Items are text unless the schema's
// `items` says they are numbers or booleans; a row holding JSON keeps its type.
import { joinMessages } from "../errors";
import { FieldFrame } from "../Field";
import { defaultText, type ArgFieldProps } from "./types";

function itemText(item: unknown): string {
  return typeof item === "string" ? item : JSON.stringify(item);
}

function readItem(text: string, before: unknown, itemType: unknown): unknown {
  if (itemType === "integer" || itemType === "number") {
    const n = Number(text);
    return text.trim() !== "" && Number.isFinite(n) ? n : text;
  }
  if (itemType === "boolean" && (text === "true" || text === "false")) return text === "true";
  if (before !== undefined && typeof before !== "string") {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  return text;
}

export function ListField({ id, name, schema, value, required, serverError, onChange }: ArgFieldProps) {
  const items = Array.isArray(value) ? value : [];
  const notList = value !== undefined && !Array.isArray(value);
  const error = joinMessages(notList ? `${itemText(value)} is not a list: give one item per row` : undefined, serverError);
  const itemType = schema.items?.type;
  const fallback = defaultText(schema);
  const help = [schema.description, value === undefined && fallback && `(default: ${fallback})`].filter(Boolean).join(" ");
  const set = (next: unknown[]) => onChange(next);
  return (
    <FieldFrame id={id} label={name} required={required} kind="list" help={help} error={error}>
      <div className="cf-rows" role="group" aria-labelledby={`${id}-label`} data-testid={`arg-${name}`}>
        {items.map((item, i) => (
          <div className="cf-row" key={i}>
            <input
              id={i === 0 ? id : undefined}
              aria-label={`${name} item ${i + 1}`}
              data-testid={`arg-${name}-${i}`}
              value={itemText(item)}
              onChange={(e) => set(items.map((old, j) => (j === i ? readItem(e.target.value, old, itemType) : old)))}
            />
            <button
              type="button"
              className="ghost cf-icon"
              aria-label={`remove ${name} item ${i + 1}`}
              onClick={() => set(items.filter((_, j) => j !== i))}
            >
              ×
            </button>
          </div>
        ))}
        <div className="cf-row">
          <button
            type="button"
            id={items.length === 0 ? id : undefined}
            className="ghost cf-add"
            aria-label={`add ${name} item`}
            onClick={() => set([...items, itemType === "integer" || itemType === "number" ? 0 : ""])}
          >
            + add item
          </button>
          {value !== undefined && schema.default !== undefined && (
            <button type="button" className="ghost cf-add" onClick={() => onChange(undefined)}>
              use default
            </button>
          )}
        </div>
      </div>
    </FieldFrame>
  );
}
