// Plain labelled inputs for the settings panels: a text read through a checker (numbers,
// durations, sizes keep their half-typed text), a checkbox and a select.
import type { ReactNode } from "react";

import { joinMessages } from "./errors";
import { describedBy, FieldFrame } from "./Field";
import { useDraft } from "./useDraft";

export interface Reading {
  value?: unknown;
  error?: string;
}

const show = (v: unknown) => (v === undefined || v === null ? "" : typeof v === "string" ? v : String(v));

export function CheckedInput(props: {
  id: string;
  label: string;
  value: unknown;
  /** The value to keep for a text (undefined: leave the field out) and what is wrong. */
  read: (text: string) => Reading;
  onChange: (value: unknown) => void;
  error?: string;
  help?: string;
  placeholder?: string;
  testId?: string;
  required?: boolean;
  multiline?: boolean;
  list?: string;
}) {
  const { id, value, read, onChange } = props;
  const [text, setText] = useDraft(value, show);
  const error = joinMessages(read(text).error, props.error);
  const common = {
    id,
    value: text,
    placeholder: props.placeholder,
    "data-testid": props.testId,
    "aria-invalid": error ? true : undefined,
    "aria-required": props.required || undefined,
    "aria-describedby": describedBy(id, error, props.help),
    onChange: (e: { target: { value: string } }) => {
      const next = read(e.target.value).value;
      setText(e.target.value, next);
      onChange(next);
    },
  };
  return (
    <FieldFrame id={id} label={props.label} required={props.required} help={props.help} error={error}>
      {props.multiline ? <textarea rows={2} {...common} /> : <input list={props.list} autoComplete="off" {...common} />}
    </FieldFrame>
  );
}

/** Text kept as typed; empty leaves the field out. */
export const plainText = (text: string): Reading => ({ value: text === "" ? undefined : text });

export function Checkbox(props: {
  id: string;
  label: string;
  checked: boolean;
  onChange: (checked: boolean) => void;
  help?: string;
  error?: string;
  testId?: string;
}) {
  return (
    <FieldFrame id={props.id} label={props.label} help={props.help} error={props.error} inline>
      <input
        id={props.id}
        type="checkbox"
        data-testid={props.testId}
        checked={props.checked}
        aria-describedby={describedBy(props.id, props.error, props.help)}
        onChange={(e) => props.onChange(e.target.checked)}
      />
    </FieldFrame>
  );
}

export function Select(props: {
  id: string;
  label: string;
  value: string;
  options: [string, string][];
  onChange: (value: string) => void;
  help?: ReactNode;
  error?: string;
  testId?: string;
}) {
  return (
    <FieldFrame id={props.id} label={props.label} error={props.error}>
      <select
        id={props.id}
        data-testid={props.testId}
        value={props.value}
        aria-invalid={props.error ? true : undefined}
        onChange={(e) => props.onChange(e.target.value)}
      >
        {props.options.map(([value, label]) => (
          <option key={value} value={value}>
            {label}
          </option>
        ))}
      </select>
      {props.help && <p className="hint cf-help">{props.help}</p>}
    </FieldFrame>
  );
}

/** An object with `key` set to `value`, or without `key` when value is undefined. */
export function withField<T extends object>(object: T, key: string, value: unknown): T {
  const next = { ...object } as Record<string, unknown>;
  if (value === undefined) delete next[key];
  else next[key] = value;
  return next as T;
}
