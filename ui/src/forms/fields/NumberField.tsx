// An int or a float. Typed as text so that a template expression ({{ params.epochs }}) can
// be given too; a number is sent up as a number, anything else as the text with an error.
import { useState } from "react";

import { readNumber } from "../checks";
import { joinMessages } from "../errors";
import { describedBy, FieldFrame } from "../Field";
import { useDraft } from "../useDraft";
import { defaultText, REQUIRED, type ArgFieldProps } from "./types";

function limit(value: unknown): number | undefined {
  return typeof value === "number" ? value : undefined;
}

export function NumberField(props: ArgFieldProps & { integer: boolean }) {
  const { id, name, schema, value, required, serverError, onChange, integer } = props;
  const [touched, setTouched] = useState(false);
  const [text, setText] = useDraft(value, (v: unknown) => (v === undefined || v === null ? "" : String(v)));
  const limits = { integer, minimum: limit(schema.minimum), maximum: limit(schema.maximum) };
  const read = readNumber(text, limits);
  const client = read.error ?? (touched && required && read.value === undefined ? REQUIRED : undefined);
  const error = joinMessages(client, serverError);
  const range = [limits.minimum !== undefined && `≥ ${limits.minimum}`, limits.maximum !== undefined && `≤ ${limits.maximum}`]
    .filter(Boolean)
    .join(", ");
  const help = [schema.description, range && `(${range})`].filter(Boolean).join(" ");
  return (
    <FieldFrame id={id} label={name} required={required} kind={integer ? "int" : "float"} help={help} error={error}>
      <input
        id={id}
        data-testid={`arg-${name}`}
        inputMode={integer ? "numeric" : "decimal"}
        className="cf-number"
        value={text}
        placeholder={defaultText(schema)}
        aria-invalid={error ? true : undefined}
        aria-required={required || undefined}
        aria-describedby={describedBy(id, error, help)}
        onBlur={() => setTouched(true)}
        onChange={(e) => {
          setTouched(true);
          const next = readNumber(e.target.value, limits).value;
          setText(e.target.value, next);
          onChange(next);
        }}
      />
    </FieldFrame>
  );
}
