// A colour per template category, the same wherever a category shows (the palette, the
// nodes, the templates page): known categories fixed, any other from a hash of its name.
// No red among them: red means an error here.
const KNOWN: Record<string, string> = {
  basic: "#64748b",
  general: "#64748b",
  command: "#64748b",
  data: "#0891b2",
  training: "#7c3aed",
  train: "#7c3aed",
  evaluation: "#059669",
  evaluate: "#059669",
  serving: "#ea580c",
  deploy: "#ea580c",
  inference: "#ea580c",
  notify: "#ca8a04",
  tool: "#0d9488",
};
const SPARE = ["#2563eb", "#db2777", "#ca8a04", "#0d9488", "#9333ea", "#4d7c0f", "#0369a1"];

export function categoryColor(category: string | undefined): string {
  if (!category) return KNOWN.command;
  const known = KNOWN[category.toLowerCase()];
  if (known) return known;
  let hash = 0;
  for (const ch of category) hash = (hash * 31 + ch.charCodeAt(0)) | 0;
  return SPARE[Math.abs(hash) % SPARE.length];
}
