// A cron expression read in the browser: its description in words (cronstrue), or why it is
// not one, in the scheduler's terms (spec/cron.py: 5 fields or a macro; no R, H or W).
import cronstrue from "cronstrue";

const MACROS = ["@hourly", "@daily", "@weekly", "@monthly", "@yearly"];
const HINT = "use 5 fields (minute hour day month weekday) or @hourly, @daily, @weekly, @monthly, @yearly";
const NAMES = /jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec|sun|mon|tue|wed|thu|fri|sat/g;
const UNSUPPORTED: Record<string, string> = {
  r: "R (a random value) is not supported",
  h: "H (a hashed value) is not supported",
  w: "W (nearest weekday) is not supported",
};

export function describeCron(text: string): { description?: string; error?: string } {
  const cron = text.trim();
  if (!cron) return { error: `give a cron expression: ${HINT}` };
  const isMacro = cron.startsWith("@");
  if (isMacro && !MACROS.includes(cron.toLowerCase())) return { error: `${cron} is not a cron macro: ${HINT}` };
  if (!isMacro && cron.split(/\s+/).length !== 5) return { error: `${JSON.stringify(cron)} is not a cron: ${HINT}` };
  const letter = cron.toLowerCase().replace(NAMES, "").match(/[rhw]/);
  if (!isMacro && letter) return { error: UNSUPPORTED[letter[0]] };
  try {
    return { description: cronstrue.toString(cron, { use24HourTimeFormat: true, throwExceptionOnParseError: true }) };
  } catch (err) {
    const reason = String(err instanceof Error ? err.message : err).replace(/^Error:\s*/, "");
    return { error: `${JSON.stringify(cron)} is not a cron (${reason}): ${HINT}` };
  }
}

/** Whether the browser knows the IANA time zone (aliases such as Asia/Calcutta included). */
export function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat("en", { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

let zones: string[] | undefined;
export function timeZones(): string[] {
  if (!zones) {
    const known = typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : [];
    zones = ["UTC", ...known.filter((z) => z !== "UTC")];
  }
  return zones;
}

const START = /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/;
export function checkStart(text: string): string | undefined {
  if (!text.trim() || START.test(text.trim())) return undefined;
  return `${JSON.stringify(text)} is not a start time: use YYYY-MM-DD HH:MM:SS (or ISO 8601 with an offset)`;
}
