// Queue quantities as the Queues page shows and edits them: cores, memory in GiB (the API
// gives bytes), GPUs; a limit of null is "no limit".
const GIB = 2 ** 30;
const MIB = 2 ** 20;

export function formatCpu(cores: number): string {
  return String(Math.round(cores * 100) / 100);
}

export function formatGiB(bytes: number): string {
  const value = bytes / GIB;
  return `${Number.isInteger(value) ? value : value.toFixed(1)} GiB`;
}

/** "used / limit" for one resource of a queue. */
export function usedOf(used: string, limit: string | null): string {
  return `${used} / ${limit ?? "no limit"}`;
}

/** A memory limit as the edit form prefills it: 68719476736 → "64Gi" (bytes as a fallback). */
export function memoryInput(bytes: number | null): string {
  if (bytes === null) return "";
  if (bytes % GIB === 0) return `${bytes / GIB}Gi`;
  if (bytes % MIB === 0) return `${bytes / MIB}Mi`;
  return String(bytes);
}
