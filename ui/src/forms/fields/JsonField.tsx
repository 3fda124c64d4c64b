// Any JSON value, in a code editor: the text is parsed as it is typed and sent up only when
// it parses; until then the error shows under it. Empty text gives no arg (the default).
import { useState } from "react";

import { readJson } from "../checks";
import { CodeEditor } from "../CodeEditor";
import { joinMessages } from "../errors";
import { describedBy, FieldFrame } from "../Field";
import { useDraft } from "../useDraft";
import { defaultText, REQUIRED, type ArgFieldProps } from "./types";

export function JsonField({ id, name, schema, value, required, serverError, onChange }: ArgFieldProps) {
  const [text, setText] = useDraft(value, (v: unknown) => (v === undefined ? "" : JSON.stringify(v, null, 2)));
  const [touched, setTouched] = useState(false);
  const read = readJson(text);
  const client = read.error ?? (touched && required && read.empty ? REQUIRED : undefined);
  const error = joinMessages(client, serverError);
  return (
    <FieldFrame id={id} label={name} required={required} kind="json" help={schema.description} error={error}>
      <CodeEditor
        id={id}
        testId={`arg-${name}`}
        language="json"
        value={text}
        placeholder={defaultText(schema)}
        invalid={Boolean(error)}
        required={required}
        describedBy={describedBy(id, error, schema.description)}
        onChange={(next) => {
          setTouched(true);
          const parsed = readJson(next);
          if (parsed.error) {
            setText(next, value);
            return;
          }
          const emitted = parsed.empty ? undefined : parsed.value;
          setText(next, emitted);
          onChange(emitted);
        }}
      />
    </FieldFrame>
  );
}
