// The parameter-schema builder's model: what the form holds (text as typed), the template
// file it makes (spec/template.py TemplateSpec: name, category, description, image, command,
// parameters), the problems found before sending it, and the way back from a YAML file.
import YAML from "yaml";

export const PARAM_TYPES = ["str", "int", "float", "bool", "enum", "list", "json", "text"] as const;
export type ParamType = (typeof PARAM_TYPES)[number];

/** One parameter row; `defaultText` and `choicesText` are what the user typed. */
export interface ParamRow {
  key: number;
  name: string;
  type: ParamType;
  defaultText: string;
  required: boolean;
  description: string;
  group: string;
  choicesText: string;
  /** str/text: a regular expression the whole value must match. */
  pattern: string;
  /** enum: the choices are suggestions; any other text is taken too. */
  allowOther: boolean;
}

export interface BuilderState {
  name: string;
  category: string;
  description: string;
  image: string;
  command: string;
  parameters: ParamRow[];
}

/** Problems by field path, in the server's form: `name`, `parameters[2].default`. */
export type Problems = Record<string, string>;

const TEMPLATE_NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;
let nextKey = 1;

export function emptyParam(): ParamRow {
  return {
    key: nextKey++,
    name: "",
    type: "str",
    defaultText: "",
    required: false,
    description: "",
    group: "",
    choicesText: "",
    pattern: "",
    allowOther: false,
  };
}

export function emptyBuilder(): BuilderState {
  return { name: "", category: "general", description: "", image: "", command: "", parameters: [] };
}

/** A typed value for a parameter type, or an Error saying why the text is not one. */
export function parseValue(type: ParamType, text: string): unknown {
  const t = text.trim();
  switch (type) {
    case "str":
    case "text":
      return text;
    case "int":
      if (!/^[-+]?\d+$/.test(t)) throw new Error(`${JSON.stringify(t)} is not an int`);
      return Number.parseInt(t, 10);
    case "float": {
      const n = Number(t);
      if (t === "" || !Number.isFinite(n)) throw new Error(`${JSON.stringify(t)} is not a float`);
      return n;
    }
    case "bool":
      if (t === "true" || t === "false") return t === "true";
      throw new Error("choose true or false");
    case "enum":
      return scalar(t);
    case "list":
      return parseList(t);
    case "json":
      try {
        return JSON.parse(t);
      } catch {
        throw new Error("not valid JSON (strings need double quotes)");
      }
  }
}

function parseList(t: string): unknown[] {
  if (t.startsWith("[")) {
    let value: unknown;
    try {
      value = JSON.parse(t);
    } catch {
      throw new Error('not a JSON list: write ["a", "b"] or a, b');
    }
    if (!Array.isArray(value)) throw new Error("not a list");
    return value;
  }
  return t === "" ? [] : t.split(",").map((item) => item.trim());
}

/** An enum choice as YAML reads it: `3` a number, `true` a bool, anything else a string. */
function scalar(t: string): unknown {
  const value: unknown = YAML.parse(t);
  return value === null || typeof value === "object" ? t : value;
}

export function choicesOf(row: ParamRow): unknown[] {
  if (row.type !== "enum") return [];
  return row.choicesText
    .split(",")
    .map((c) => c.trim())
    .filter((c) => c !== "")
    .map(scalar);
}

/** The template file as data (keys in the file's usual order, empty fields left out). */
export function toTemplateData(state: BuilderState): Record<string, unknown> {
  const data: Record<string, unknown> = { name: state.name };
  if (state.description) data.description = state.description;
  data.category = state.category || "general";
  if (state.image) data.image = state.image;
  data.command = state.command;
  if (state.parameters.length > 0) data.parameters = state.parameters.map(paramData);
  return data;
}

function paramData(row: ParamRow): Record<string, unknown> {
  const out: Record<string, unknown> = { name: row.name, type: row.type };
  const choices = choicesOf(row);
  if (choices.length > 0) out.choices = choices;
  if (row.type === "enum" && row.allowOther) out.allow_other = true;
  if ((row.type === "str" || row.type === "text") && row.pattern) out.pattern = row.pattern;
  if (row.defaultText.trim() !== "") {
    try {
      out.default = parseValue(row.type, row.defaultText);
    } catch {
      out.default = row.defaultText; // shown as typed; problems() reports it
    }
  }
  if (row.required) out.required = true;
  if (row.description) out.description = row.description;
  if (row.group) out.group = row.group;
  return out;
}

export function toYaml(state: BuilderState): string {
  return YAML.stringify(toTemplateData(state), { lineWidth: 0 });
}

/** What the server would refuse, found as the user types (the same words where it can). */
export function problems(state: BuilderState): Problems {
  const found: Problems = {};
  if (!TEMPLATE_NAME.test(state.name)) {
    found.name = "use lowercase letters, digits and '-' (e.g. 'train-model')";
  }
  if (state.command.trim() === "") found.command = "give the command the task runs";
  const declared = new Set(state.parameters.map((p) => p.name));
  const unknown = usedArgs(state.command).find((name) => !declared.has(name));
  if (unknown) {
    found.command = `command uses 'args.${unknown}', which is not a parameter (declare it under parameters)`;
  }
  const seen = new Set<string>();
  state.parameters.forEach((row, i) => {
    const at = `parameters[${i}]`;
    if (!IDENTIFIER.test(row.name)) {
      found[`${at}.name`] = "a letter or _, then letters, digits or _";
    } else if (seen.has(row.name)) {
      found[`${at}.name`] = `parameter '${row.name}' is declared twice`;
    }
    seen.add(row.name);
    if (row.type === "enum" && choicesOf(row).length === 0) {
      found[`${at}.choices`] = "an enum needs its choices, separated by commas";
    }
    const bad = patternProblem(row);
    if (bad) found[`${at}.pattern`] = bad;
    const problem = bad ? "" : defaultProblem(row);
    if (problem) found[`${at}.default`] = problem;
  });
  return found;
}

/** The names used as `args.NAME` inside the command's `{{ }}` and `{% %}` blocks. */
export function usedArgs(command: string): string[] {
  const names: string[] = [];
  for (const block of command.matchAll(/\{[{%]([\s\S]*?)[%}]\}/g)) {
    for (const use of block[1].matchAll(/\bargs\.([A-Za-z_]\w*)/g)) names.push(use[1]);
  }
  return names;
}

function patternProblem(row: ParamRow): string {
  if (!(row.type === "str" || row.type === "text") || !row.pattern) return "";
  try {
    new RegExp(row.pattern);
  } catch (err) {
    return `not a regular expression: ${(err as Error).message}`;
  }
  return "";
}

/** Whole-value match, as the server's re.fullmatch (JavaScript's syntax is close enough for a
 * hint; the server's check decides). */
function matchesWhole(pattern: string, value: string): boolean {
  try {
    return new RegExp(`^(?:${pattern})$`).test(value);
  } catch {
    return true;
  }
}

function defaultProblem(row: ParamRow): string {
  if (row.defaultText.trim() === "") return "";
  let value: unknown;
  try {
    value = parseValue(row.type, row.defaultText);
  } catch (err) {
    return (err as Error).message;
  }
  const choices = choicesOf(row);
  if (
    row.type === "enum" &&
    !row.allowOther &&
    choices.length > 0 &&
    !choices.some((c) => c === value)
  ) {
    return `${JSON.stringify(value)} is not one of the choices`;
  }
  if (row.pattern && typeof value === "string" && !matchesWhole(row.pattern, value)) {
    return `${JSON.stringify(value)} does not match the pattern ${row.pattern}`;
  }
  return "";
}

/** A template file back into the builder; an Error naming what the builder cannot show. */
export function fromYaml(text: string): BuilderState {
  const data: unknown = YAML.parse(text);
  if (data === null || typeof data !== "object" || Array.isArray(data)) {
    throw new Error("a template file is a mapping with name, command and parameters");
  }
  const d = data as Record<string, unknown>;
  const extra = Object.keys(d).filter(
    (k) => !["name", "description", "category", "image", "command", "parameters", "version"].includes(k),
  );
  if (extra.length > 0) {
    throw new Error(`the form has no field for ${extra.join(", ")}: keep editing it as YAML`);
  }
  const params = Array.isArray(d.parameters) ? d.parameters : [];
  return {
    name: text_(d.name),
    category: text_(d.category) || "general",
    description: text_(d.description),
    image: text_(d.image),
    command: text_(d.command),
    parameters: params.map((p) => rowFrom(p as Record<string, unknown>)),
  };
}

function rowFrom(p: Record<string, unknown>): ParamRow {
  const type = (PARAM_TYPES as readonly string[]).includes(String(p.type))
    ? (p.type as ParamType)
    : "str";
  const choices = Array.isArray(p.choices) ? p.choices : [];
  return {
    ...emptyParam(),
    name: text_(p.name),
    type,
    defaultText: p.default === undefined || p.default === null ? "" : valueText(type, p.default),
    required: p.required === true,
    description: text_(p.description),
    group: text_(p.group),
    choicesText: choices.map((c) => String(c)).join(", "),
    pattern: text_(p.pattern),
    allowOther: p.allow_other === true,
  };
}

function valueText(type: ParamType, value: unknown): string {
  if (type === "json" || type === "list") return JSON.stringify(value);
  return String(value);
}

function text_(value: unknown): string {
  return value === undefined || value === null ? "" : String(value);
}
