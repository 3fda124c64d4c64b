// A template's category as a coloured chip; the same category always gets the same colour
// (known ones fixed, others from a hash of the name).
const KNOWN: Record<string, string> = {
  data: "#0891b2",
  train: "#7c3aed",
  evaluate: "#db2777",
  deploy: "#ea580c",
  inference: "#ea580c",
  general: "#64748b",
  notify: "#ca8a04",
  tool: "#0d9488",
};
const PALETTE = ["#2563eb", "#16a34a", "#9333ea", "#c2410c", "#0f766e", "#be123c", "#4d7c0f"];

export function categoryColor(category: string): string {
  const known = KNOWN[category.toLowerCase()];
  if (known) return known;
  let hash = 0;
  for (const ch of category) hash = (hash * 31 + ch.charCodeAt(0)) >>> 0;
  return PALETTE[hash % PALETTE.length];
}

export function CategoryChip({ category }: { category: string }) {
  const color = categoryColor(category);
  return (
    <span
      className="category-chip"
      data-category={category}
      style={{ color, background: `${color}1a`, borderColor: `${color}55` }}
    >
      {category}
    </span>
  );
}
