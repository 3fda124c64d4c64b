// The pipeline as YAML text and back (the `yaml` package): what the YAML view shows and
// edits, what Export writes and Import reads. JSON → YAML → JSON gives the same JSON.
import { parse, stringify, YAMLParseError } from "yaml";

import type { PipelineJson } from "./types";

export function toYaml(pipeline: PipelineJson): string {
  return stringify(pipeline, { lineWidth: 0, aliasDuplicateObjects: false });
}

export type Parsed =
  | { ok: true; pipeline: PipelineJson }
  | { ok: false; message: string; line?: number };

/** A pipeline from YAML or JSON text (JSON is YAML), or the first problem and its line. */
export function fromYaml(text: string): Parsed {
  let data: unknown;
  try {
    data = parse(text);
  } catch (err) {
    if (err instanceof YAMLParseError) {
      const line = err.linePos?.[0]?.line;
      const first = err.message.split("\n")[0];
      return { ok: false, message: first, line };
    }
    return { ok: false, message: String(err) };
  }
  if (data === null || typeof data !== "object" || Array.isArray(data)) {
    return { ok: false, message: "a pipeline is a mapping with `name` and `tasks`" };
  }
  const value = data as Record<string, unknown>;
  if (value.tasks !== undefined && !Array.isArray(value.tasks)) {
    return { ok: false, message: "tasks: a list of tasks (- name: …)" };
  }
  const tasks = (value.tasks as unknown[] | undefined) ?? [];
  if (tasks.some((t) => t === null || typeof t !== "object" || Array.isArray(t))) {
    return { ok: false, message: "tasks: each task is a mapping with a `name`" };
  }
  return {
    ok: true,
    pipeline: { ...value, name: String(value.name ?? ""), tasks } as PipelineJson,
  };
}
