// A colour per template category, the same wherever a category shows (palette, nodes).
const KNOWN: Record<string, string> = {
  data: "#0891b2",
  training: "#7c3aed",
  evaluation: "#059669",
  serving: "#ea580c",
  command: "#64748b",
};
const SPARE = ["#2563eb", "#db2777", "#ca8a04", "#0d9488", "#9333ea", "#dc2626", "#4d7c0f"];

export function categoryColor(category: string | undefined): string {
  if (!category) return KNOWN.command;
  const known = KNOWN[category.toLowerCase()];
  if (known) return known;
  let hash = 0;
  for (const ch of category) hash = (hash * 31 + ch.charCodeAt(0)) | 0;
  return SPARE[Math.abs(hash) % SPARE.length];
}
