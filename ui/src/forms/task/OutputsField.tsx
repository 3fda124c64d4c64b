// The task's outputs: what it writes under $CUBE_OUTPUTS/<name>. Typed as one line, comma
// separated: a plain name is a value (a `parameter`, shown in the run view and usable as
// {{ tasks.T.outputs.NAME }}); `name:file` or `name:folder` is an artifact.
import { IDENTIFIER } from "../checks";
import { joinMessages } from "../errors";
import { describedBy, FieldFrame } from "../Field";
import { useDraft } from "../useDraft";

type Output = string | { name: string; type?: string };
const KINDS = ["parameter", "file", "folder"];

export function outputsText(outputs: unknown[] | undefined): string {
  return (outputs ?? [])
    .map((o) => {
      if (typeof o === "string") return o;
      const { name, type } = o as { name: string; type?: string };
      return type && type !== "parameter" ? `${name}:${type}` : name;
    })
    .join(", ");
}

export function readOutputs(text: string): { value?: Output[]; error?: string } {
  const items = text.split(",").map((s) => s.trim()).filter(Boolean);
  const out: Output[] = [];
  for (const item of items) {
    const [name, type = "parameter"] = item.split(":").map((s) => s.trim());
    if (!IDENTIFIER.test(name)) {
      return { error: `${JSON.stringify(name)} is not an output name: use letters, digits and _` };
    }
    if (!KINDS.includes(type)) {
      return { error: `${JSON.stringify(type)} is not an output kind: write ${name}:file or ${name}:folder` };
    }
    if (out.some((o) => (typeof o === "string" ? o : o.name) === name)) {
      return { error: `${name} is named twice: each output needs its own name` };
    }
    out.push(type === "parameter" ? name : { name, type });
  }
  return { value: out.length ? out : undefined };
}

export function OutputsField(props: {
  id: string;
  outputs: unknown[] | undefined;
  error?: string;
  onChange: (outputs: Output[] | undefined) => void;
}) {
  const { id } = props;
  const [text, setText] = useDraft(props.outputs, outputsText);
  const error = joinMessages(readOutputs(text).error, props.error);
  const help = "Written by the task to $CUBE_OUTPUTS/<name>: rows, model:file, data:folder";
  return (
    <FieldFrame id={id} label="outputs" help={help} error={error}>
      <input
        id={id}
        className="mono"
        data-testid="task-outputs"
        value={text}
        placeholder="rows, model:file"
        autoComplete="off"
        aria-invalid={error ? true : undefined}
        aria-describedby={describedBy(id, error, help)}
        onChange={(e) => {
          const read = readOutputs(e.target.value);
          setText(e.target.value, read.error ? props.outputs : read.value);
          if (!read.error) props.onChange(read.value);
        }}
      />
    </FieldFrame>
  );
}
