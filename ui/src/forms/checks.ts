// Checks run in the browser as the user types, mirroring the server's (spec/model.py,
// spec/quantities.py): each returns one sentence saying what is wrong and what to write,
// or undefined when the text is fine. The server stays the judge; these only answer sooner.

export const TASK_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,62}$/;
export const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;
const DURATION = /^(\d+(\.\d+)?(ms|s|m|h|d))+$/;
const CPU = /^\d+(\.\d+)?m?$/;
const MEMORY = /^\d+(\.\d+)?(Ki|Mi|Gi|Ti|k|K|M|G|T)?$/;

/** A string holding a template expression ({{ params.lr }}): checked once rendered. */
export function isExpression(text: string): boolean {
  return text.includes("{{") || text.includes("{%");
}

export function checkPattern(text: string, pattern: string | undefined): string | undefined {
  if (!pattern || !text || isExpression(text)) return undefined;
  let regex: RegExp;
  try {
    regex = new RegExp(pattern, "u");
  } catch {
    return undefined; // a pattern the browser cannot read: leave it to the server
  }
  return regex.test(text) ? undefined : `does not match the pattern ${pattern}`;
}

export interface NumberLimits {
  integer: boolean;
  minimum?: number;
  maximum?: number;
}

/** A number typed as text: the value to keep (a number, an expression kept as text, or
 * undefined for empty) and what is wrong with the text, if anything. */
export function readNumber(
  text: string,
  limits: NumberLimits,
): { value: number | string | undefined; error?: string } {
  const trimmed = text.trim();
  if (!trimmed) return { value: undefined };
  if (isExpression(trimmed)) return { value: trimmed };
  const kind = limits.integer ? "a whole number such as 10" : "a number such as 0.01";
  const number = Number(trimmed);
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(trimmed) || !Number.isFinite(number)) {
    return { value: trimmed, error: `${JSON.stringify(trimmed)} is not a number: write ${kind}` };
  }
  if (limits.integer && !Number.isInteger(number)) {
    return { value: trimmed, error: `${trimmed} is not a whole number: write ${kind}` };
  }
  if (limits.minimum !== undefined && number < limits.minimum) {
    return { value: number, error: `must be at least ${limits.minimum}` };
  }
  if (limits.maximum !== undefined && number > limits.maximum) {
    return { value: number, error: `must be at most ${limits.maximum}` };
  }
  return { value: number };
}

/** A JSON text: its value, or why it does not parse. Empty text is no value. */
export function readJson(text: string): { value?: unknown; empty?: boolean; error?: string } {
  if (!text.trim()) return { empty: true };
  try {
    return { value: JSON.parse(text) };
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    return { error: `not valid JSON (${reason}): fix the text or clear it` };
  }
}

/** A duration (seconds, or "30s", "5m", "1h30m"): a number, a text, or undefined (empty). */
export function readDuration(text: string): { value?: number | string; error?: string } {
  const trimmed = text.trim();
  if (!trimmed) return {};
  if (/^\d+(\.\d+)?$/.test(trimmed)) return { value: Number(trimmed) };
  if (DURATION.test(trimmed) || isExpression(trimmed)) return { value: trimmed };
  return {
    value: trimmed,
    error: `${JSON.stringify(trimmed)} is not a duration: write seconds (30) or 30s, 5m, 2h, 1d`,
  };
}

export function readCpu(text: string): { value?: number | string; error?: string } {
  const trimmed = text.trim();
  if (!trimmed) return {};
  if (!CPU.test(trimmed)) {
    return { value: trimmed, error: `${JSON.stringify(trimmed)} is not a cpu amount: write 1, 0.5 or 500m` };
  }
  const cores = trimmed.endsWith("m") ? Number(trimmed.slice(0, -1)) / 1000 : Number(trimmed);
  if (cores <= 0) return { value: trimmed, error: "cpu must be more than 0" };
  return { value: trimmed.endsWith("m") ? trimmed : cores };
}

export function checkMemory(text: string): string | undefined {
  const trimmed = text.trim();
  if (!trimmed || MEMORY.test(trimmed)) return undefined;
  return `${JSON.stringify(trimmed)} is not a memory size: write 512Mi, 2Gi or 1G`;
}

/** A memory size in bytes written the short way (2147483648 → "2Gi"). */
export function formatBytes(bytes: number): string {
  for (const [unit, size] of [["Ti", 2 ** 40], ["Gi", 2 ** 30], ["Mi", 2 ** 20], ["Ki", 2 ** 10]] as const) {
    if (bytes >= size && bytes % size === 0) return `${bytes / size}${unit}`;
  }
  return String(bytes);
}

export function checkIdentifier(name: string, what: string): string | undefined {
  if (!name) return `give the ${what} a name`;
  return IDENTIFIER.test(name)
    ? undefined
    : `${JSON.stringify(name)} is not a valid ${what} name: use letters, digits and _ (not first a digit)`;
}
