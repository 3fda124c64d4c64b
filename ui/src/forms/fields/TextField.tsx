// A multi-line text (a script, a command) in a code editor; Python highlighting when the
// schema says so ("x-language": "python") or the name reads like a script.
import { useState } from "react";

import { CodeEditor } from "../CodeEditor";
import { joinMessages } from "../errors";
import { describedBy, FieldFrame } from "../Field";
import { defaultText, REQUIRED, type ArgFieldProps } from "./types";

export function TextField({ id, name, schema, value, required, serverError, onChange }: ArgFieldProps) {
  const text = value === undefined || value === null ? "" : typeof value === "string" ? value : JSON.stringify(value);
  const [touched, setTouched] = useState(false);
  const error = joinMessages(touched && required && !text ? REQUIRED : undefined, serverError);
  const python = schema["x-language"] === "python" || /script|python|code/i.test(name);
  return (
    <FieldFrame id={id} label={name} required={required} kind="text" help={schema.description} error={error}>
      <CodeEditor
        id={id}
        testId={`arg-${name}`}
        language={python ? "python" : "plain"}
        value={text}
        placeholder={defaultText(schema)}
        invalid={Boolean(error)}
        required={required}
        describedBy={describedBy(id, error, schema.description)}
        minHeight="72px"
        onChange={(next) => {
          setTouched(true);
          onChange(next === "" ? undefined : next);
        }}
      />
    </FieldFrame>
  );
}
