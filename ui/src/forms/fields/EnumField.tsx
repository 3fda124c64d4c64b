// One of the parameter's choices: a select; or, when the schema lets other values through
// (`x-allow-other`: true, from a parameter with `allow_other`; or `examples` instead of `enum`), a combobox that offers the choices and
// takes any text (a template expression such as {{ params.model }} included).
import { useState } from "react";

import { isExpression } from "../checks";
import { joinMessages } from "../errors";
import { describedBy, FieldFrame } from "../Field";
import { defaultText, REQUIRED, type ArgFieldProps } from "./types";

export function choicesOf(props: ArgFieldProps["schema"]): unknown[] {
  return (props.enum ?? props.examples ?? []) as unknown[];
}

export function isFreeText(schema: ArgFieldProps["schema"]): boolean {
  return schema["x-allow-other"] === true || (!schema.enum && Array.isArray(schema.examples));
}

const label = (choice: unknown) => (typeof choice === "string" ? choice : JSON.stringify(choice));
const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

export function EnumField(props: ArgFieldProps) {
  return isFreeText(props.schema) ? <EnumCombobox {...props} /> : <EnumSelect {...props} />;
}

function EnumSelect({ id, name, schema, value, required, serverError, onChange }: ArgFieldProps) {
  const choices = choicesOf(schema);
  const index = choices.findIndex((c) => same(c, value));
  const other = value !== undefined && index < 0;
  const client = other && !(typeof value === "string" && isExpression(value))
    ? `${label(value)} is not one of the choices: ${choices.map(label).join(", ")}`
    : undefined;
  const error = joinMessages(client, serverError);
  const fallback = defaultText(schema);
  return (
    <FieldFrame id={id} label={name} required={required} kind="enum" help={schema.description} error={error}>
      <select
        id={id}
        data-testid={`arg-${name}`}
        value={other ? "other" : index < 0 ? "" : String(index)}
        aria-invalid={error ? true : undefined}
        aria-required={required || undefined}
        aria-describedby={describedBy(id, error, schema.description)}
        onChange={(e) => {
          const picked = e.target.value;
          if (picked === "other") return;
          onChange(picked === "" ? undefined : choices[Number(picked)]);
        }}
      >
        {(!required || fallback !== undefined || index < 0) && (
          <option value="">{fallback !== undefined ? `default (${fallback})` : "— choose —"}</option>
        )}
        {choices.map((choice, i) => (
          <option key={i} value={String(i)}>
            {label(choice)}
          </option>
        ))}
        {other && <option value="other">{label(value)}</option>}
      </select>
    </FieldFrame>
  );
}

function EnumCombobox({ id, name, schema, value, required, serverError, onChange }: ArgFieldProps) {
  const [touched, setTouched] = useState(false);
  const choices = choicesOf(schema);
  const text = value === undefined || value === null ? "" : label(value);
  const error = joinMessages(touched && required && !text ? REQUIRED : undefined, serverError);
  const help = [schema.description, "(pick a choice or type any value)"].filter(Boolean).join(" ");
  return (
    <FieldFrame id={id} label={name} required={required} kind="enum" help={help} error={error}>
      <input
        id={id}
        list={`${id}-choices`}
        data-testid={`arg-${name}`}
        value={text}
        placeholder={defaultText(schema)}
        autoComplete="off"
        aria-invalid={error ? true : undefined}
        aria-required={required || undefined}
        aria-describedby={describedBy(id, error, help)}
        onBlur={() => setTouched(true)}
        onChange={(e) => {
          setTouched(true);
          const typed = e.target.value;
          const choice = choices.find((c) => label(c) === typed);
          onChange(typed === "" ? undefined : choice !== undefined ? choice : typed);
        }}
      />
      <datalist id={`${id}-choices`}>
        {choices.map((choice, i) => (
          <option key={i} value={label(choice)} />
        ))}
      </datalist>
    </FieldFrame>
  );
}
