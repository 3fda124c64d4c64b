// A template's category as a coloured chip, in the colour the editor's palette gives it.
import { categoryColor } from "../../editor/categories";

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
