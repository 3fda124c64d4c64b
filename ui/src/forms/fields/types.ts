// What every parameter field gets from ParamForm. `value` undefined means the task does not
// give the arg (the template's default applies); onChange(undefined) removes it.
import type { ParamSchema } from "../../api/templates";

export interface ArgFieldProps {
  id: string;
  name: string;
  schema: ParamSchema;
  value: unknown;
  required: boolean;
  /** The server's message for this arg, if any. */
  serverError?: string;
  onChange: (value: unknown) => void;
}

/** The template's default as the text shown in an empty field. */
export function defaultText(schema: ParamSchema): string | undefined {
  const value = schema.default;
  if (value === undefined || value === null || value === "") return undefined;
  if (typeof value === "string") return value;
  if (Array.isArray(value) && value.every((v) => typeof v !== "object")) return value.join(", ");
  return JSON.stringify(value);
}

export function kindOf(schema: ParamSchema): string {
  if (schema["x-type"]) return schema["x-type"];
  if (schema.enum) return "enum";
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  return (
    { string: "str", integer: "int", number: "float", boolean: "bool", array: "list", object: "json" }[
      type ?? ""
    ] ?? "json"
  );
}

export const REQUIRED = "required: give a value";
