// The server's validation problems (422 `details[]`: field path + message) sorted for the
// editor: per task (paths relative to the task, for its node and its settings panel), for the
// pipeline settings (top-level paths), and those that belong to no field.
// The server names tasks by index ("tasks[2].args.lr", spec/validate.py and loader.py);
// "tasks.<name>.…" is understood as well.
import type { FieldProblem } from "../api/http";
import type { FieldErrors, PipelineJson } from "./types";

export interface SortedErrors {
  byTask: Record<string, FieldErrors>;
  pipeline: FieldErrors;
  general: string[];
  count: number;
}

export const noErrors = (): SortedErrors => ({ byTask: {}, pipeline: {}, general: [], count: 0 });

const BY_INDEX = /^tasks\[(\d+)\](?:\.(.*)|(\[.*))?$/;
const BY_NAME = /^tasks\.([A-Za-z][A-Za-z0-9_-]*)(?:\.(.*)|(\[.*))?$/;

export function sortErrors(details: FieldProblem[], pipeline: PipelineJson): SortedErrors {
  const out = noErrors();
  const names = new Set(pipeline.tasks.map((t) => t.name));
  for (const problem of details) {
    out.count += 1;
    const field = problem.field ?? "";
    const task = taskOf(field, pipeline, names);
    if (task) {
      const errors = (out.byTask[task.name] ??= {});
      add(errors, task.rest || "name", problem.message);
    } else if (field && !/^tasks(\b|\[)/.test(field)) {
      add(out.pipeline, field, problem.message);
    } else {
      out.general.push(field ? `${field}: ${problem.message}` : problem.message);
    }
  }
  return out;
}

function taskOf(
  field: string,
  pipeline: PipelineJson,
  names: Set<string>,
): { name: string; rest: string } | null {
  const index = BY_INDEX.exec(field);
  if (index) {
    const task = pipeline.tasks[Number(index[1])];
    if (task && typeof task.name === "string") {
      return { name: task.name, rest: index[2] ?? index[3] ?? "" };
    }
    return null;
  }
  const named = BY_NAME.exec(field);
  if (named && names.has(named[1])) return { name: named[1], rest: named[2] ?? named[3] ?? "" };
  return null;
}

function add(errors: FieldErrors, key: string, message: string) {
  errors[key] = errors[key] ? `${errors[key]}; ${message}` : message;
}

/** One line per problem of a task, for its node's tooltip: "args.lr: must be a number". */
export function taskMessages(errors: FieldErrors | undefined): string[] {
  return Object.entries(errors ?? {}).map(([field, message]) => `${field}: ${message}`);
}
