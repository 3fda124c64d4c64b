// Field errors by path ("schedule.cron", "alerts[0].url", "args.lr"): the message shown
// under one field, the errors under a prefix with the prefix taken off, and those no field
// shows (listed at the top of a panel so no server message is lost).
import type { FieldErrors } from "../editor/types";

function under(key: string, path: string): boolean {
  return key === path || key.startsWith(`${path}.`) || key.startsWith(`${path}[`);
}

/** The message for a field: its own error, or the first one of a part of it. */
export function errorAt(errors: FieldErrors, path: string): string | undefined {
  if (errors[path]) return errors[path];
  const key = Object.keys(errors).find((k) => under(k, path));
  return key ? errors[key] : undefined;
}

/** The errors under `prefix`, keyed by the rest of their path ("args.lr" → "lr"). */
export function errorsUnder(errors: FieldErrors, prefix: string): FieldErrors {
  const out: FieldErrors = {};
  for (const [key, message] of Object.entries(errors)) {
    if (key.startsWith(`${prefix}.`)) out[key.slice(prefix.length + 1)] = message;
    else if (key.startsWith(`${prefix}[`)) out[key.slice(prefix.length)] = message;
  }
  return out;
}

/** Whether any error lies under one of the paths (a collapsed section shows a mark). */
export function hasErrorUnder(errors: FieldErrors, paths: string[]): boolean {
  return Object.keys(errors).some((k) => paths.some((p) => under(k, p)));
}

/** The errors that no field of the panel shows: the whole-object ones, unknown fields. */
export function leftoverErrors(errors: FieldErrors, shown: string[]): [string, string][] {
  return Object.entries(errors).filter(([key]) => !shown.some((p) => under(key, p)));
}

/** Two messages joined once when the client and the server say the same thing. */
export function joinMessages(...messages: (string | undefined)[]): string | undefined {
  const unique = [...new Set(messages.filter((m): m is string => Boolean(m)))];
  return unique.length ? unique.join(" · ") : undefined;
}
