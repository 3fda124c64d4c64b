// A one-line string, checked against the parameter's regex `pattern` as it is typed.
import { useState } from "react";

import { checkPattern } from "../checks";
import { joinMessages } from "../errors";
import { describedBy, FieldFrame } from "../Field";
import { defaultText, REQUIRED, type ArgFieldProps } from "./types";

export function StrField({ id, name, schema, value, required, serverError, onChange }: ArgFieldProps) {
  const [touched, setTouched] = useState(false);
  const text = value === undefined || value === null ? "" : String(value);
  const client = checkPattern(text, schema.pattern) ?? (touched && required && !text ? REQUIRED : undefined);
  const error = joinMessages(client, serverError);
  return (
    <FieldFrame id={id} label={name} required={required} kind="str" help={schema.description} error={error}>
      <input
        id={id}
        data-testid={`arg-${name}`}
        value={text}
        placeholder={defaultText(schema)}
        aria-invalid={error ? true : undefined}
        aria-required={required || undefined}
        aria-describedby={describedBy(id, error, schema.description)}
        onBlur={() => setTouched(true)}
        onChange={(e) => {
          setTouched(true);
          onChange(e.target.value === "" ? undefined : e.target.value);
        }}
      />
    </FieldFrame>
  );
}
