// The checks each node type makes on its own, before the server is asked: problems by field
// path relative to the node (the same keys as the server's, merged with them).
import type { FieldErrors, NoteJson, TaskJson } from "../types";

const TASK_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,62}$/;

export function taskValidity(task: TaskJson): FieldErrors {
  const errors: FieldErrors = {};
  if (!TASK_NAME.test(task.name ?? "")) {
    errors.name = "a letter first, then letters, digits, - or _ (at most 63)";
  }
  const hasCommand = Array.isArray(task.command)
    ? task.command.length > 0
    : Boolean(task.command?.trim());
  if (!task.template && !hasCommand) errors.command = "give a command or choose a template";
  if (task.template && hasCommand) errors.command = "a task has a template or a command, not both";
  return errors;
}

export function noteValidity(_note: NoteJson): FieldErrors {
  return {};
}

/** Server problems first, the node's own checks for fields the server did not name. */
export function mergeErrors(own: FieldErrors, server: FieldErrors | undefined): FieldErrors {
  return { ...own, ...(server ?? {}) };
}
