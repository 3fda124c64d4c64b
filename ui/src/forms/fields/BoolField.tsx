// A boolean: a checkbox showing the arg, or the template's default while none is given.
import { joinMessages } from "../errors";
import { describedBy, FieldFrame } from "../Field";
import type { ArgFieldProps } from "./types";

export function BoolField({ id, name, schema, value, required, serverError, onChange }: ArgFieldProps) {
  const checked = typeof value === "boolean" ? value : schema.default === true;
  const error = joinMessages(
    value !== undefined && typeof value !== "boolean" ? `${JSON.stringify(value)} is not true or false` : undefined,
    serverError,
  );
  const help = [schema.description, value === undefined && schema.default !== undefined && `(default: ${String(schema.default)})`]
    .filter(Boolean)
    .join(" ");
  return (
    <FieldFrame id={id} label={name} required={required} help={help} error={error} inline>
      <input
        id={id}
        type="checkbox"
        data-testid={`arg-${name}`}
        checked={checked}
        aria-invalid={error ? true : undefined}
        aria-describedby={describedBy(id, error, help)}
        onChange={(e) => onChange(e.target.checked)}
      />
    </FieldFrame>
  );
}
