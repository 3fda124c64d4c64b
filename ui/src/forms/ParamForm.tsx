// The form of a template's parameters, generated from its JSON Schema (spec/jsonschema.py on
// the server): one field per parameter, by its x-type, in x-order, and a fieldset per x-group
// where its first parameter is. `value` is the task's args; a field left empty is an arg not
// given (the template's default applies).
import { useId, type ReactNode } from "react";

import type { ArgsSchema, ParamSchema } from "../api/templates";
import type { FieldErrors } from "../editor/types";
import { errorAt } from "./errors";
import { BoolField } from "./fields/BoolField";
import { EnumField, isFreeText } from "./fields/EnumField";
import { JsonField } from "./fields/JsonField";
import { ListField } from "./fields/ListField";
import { NumberField } from "./fields/NumberField";
import { StrField } from "./fields/StrField";
import { TextField } from "./fields/TextField";
import { kindOf, type ArgFieldProps } from "./fields/types";
import "./forms.css";

export interface ParamFormProps {
  schema: ArgsSchema;
  value: Record<string, unknown>;
  /** Keyed by arg name ("lr", or "tags[1]" for a part of one). */
  errors: FieldErrors;
  onChange: (next: Record<string, unknown>) => void;
}

interface Entry {
  name: string;
  schema: ParamSchema;
}

export type Block = { group?: undefined; entry: Entry } | { group: string; entries: Entry[] };

/** The parameters in file order (x-order); a group's fieldset stands where its first
 * parameter is, with all of its parameters in it. */
export function blocksOf(schema: ArgsSchema): Block[] {
  const entries = Object.entries(schema.properties ?? {})
    .map(([name, param]) => ({ name, schema: param }))
    .sort((a, b) => (a.schema["x-order"] ?? 1e9) - (b.schema["x-order"] ?? 1e9));
  const blocks: Block[] = [];
  const groups = new Map<string, Entry[]>();
  for (const entry of entries) {
    const group = entry.schema["x-group"];
    if (!group) {
      blocks.push({ entry });
    } else if (groups.has(group)) {
      groups.get(group)!.push(entry);
    } else {
      const list = [entry];
      groups.set(group, list);
      blocks.push({ group, entries: list });
    }
  }
  return blocks;
}

function ArgField(props: ArgFieldProps) {
  const kind = kindOf(props.schema);
  if (kind === "enum" || props.schema.enum || (kind === "str" && isFreeText(props.schema))) {
    return <EnumField {...props} />;
  }
  switch (kind) {
    case "int":
      return <NumberField {...props} integer />;
    case "float":
      return <NumberField {...props} integer={false} />;
    case "bool":
      return <BoolField {...props} />;
    case "list":
      return <ListField {...props} />;
    case "text":
      return <TextField {...props} />;
    case "json":
      return <JsonField {...props} />;
    default:
      return <StrField {...props} />;
  }
}

export function ParamForm({ schema, value, errors, onChange }: ParamFormProps) {
  const base = useId();
  const required = new Set(schema.required ?? []);
  const blocks = blocksOf(schema);
  const field = (entry: Entry): ReactNode => (
    <ArgField
      key={entry.name}
      id={`${base}-arg-${entry.name}`}
      name={entry.name}
      schema={entry.schema}
      value={value[entry.name]}
      required={required.has(entry.name)}
      serverError={errorAt(errors, entry.name)}
      onChange={(arg) => {
        const next = { ...value };
        if (arg === undefined) delete next[entry.name];
        else next[entry.name] = arg;
        onChange(next);
      }}
    />
  );
  if (blocks.length === 0) {
    return <p className="hint cf-empty">This template takes no parameters.</p>;
  }
  const known = new Set(Object.keys(schema.properties ?? {}));
  const unknown = Object.keys(value).filter((name) => !known.has(name));
  return (
    <div className="cf-param-form" data-testid="param-form">
      {blocks.map((block) =>
        block.group === undefined ? (
          field(block.entry)
        ) : (
          <fieldset key={`group-${block.group}`} className="cf-group" data-testid={`arg-group-${block.group}`}>
            <legend>{block.group}</legend>
            {block.entries.map(field)}
          </fieldset>
        ),
      )}
      {unknown.length > 0 && (
        <div className="cf-unknown" role="note">
          <span className="error">
            The template has no parameter {unknown.map((n) => `'${n}'`).join(", ")}.
          </span>
          <button
            type="button"
            className="ghost cf-add"
            onClick={() => onChange(Object.fromEntries(Object.entries(value).filter(([k]) => known.has(k))))}
          >
            remove {unknown.length === 1 ? "it" : "them"}
          </button>
        </div>
      )}
    </div>
  );
}
