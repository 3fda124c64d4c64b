// Sizes, shares of a core and core counts as the run view and the right-size panel show them.

/** Bytes in binary units: 150000000 → "143 MiB". */
export function formatBytes(size: number): string {
  if (size < 1024) return `${size} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let value = size / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

/** A percentage (of one core, or of a GPU): "12 %", "0.4 %". */
export function formatPercent(value: number): string {
  return `${value < 10 && value !== 0 ? value.toFixed(1) : Math.round(value)} %`;
}

/** A cpu request in cores: 0.5 → "0.5 cores", 1 → "1 core"; null → "none". */
export function formatCores(cores: number | null | undefined): string {
  if (cores === null || cores === undefined) return "none";
  const text = String(Math.round(cores * 1000) / 1000);
  return `${text} ${cores === 1 ? "core" : "cores"}`;
}
