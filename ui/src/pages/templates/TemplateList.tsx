// The templates as a table: name, category chip, description, version, where it lives.
import type { TemplateSummary } from "../../api/templates";
import { CategoryChip } from "./CategoryChip";

interface Props {
  templates: TemplateSummary[];
  selected: string | null;
  onSelect: (name: string) => void;
}

export function TemplateList({ templates, selected, onSelect }: Props) {
  return (
    <table className="list templates-table" data-testid="templates-table">
      <thead>
        <tr>
          <th>Name</th>
          <th>Category</th>
          <th className="description">Description</th>
          <th>Version</th>
          <th>Where</th>
        </tr>
      </thead>
      <tbody>
        {templates.map((t) => (
          <tr
            key={t.name}
            className={t.name === selected ? "selected" : undefined}
            onClick={() => onSelect(t.name)}
            data-testid={`template-row-${t.name}`}
          >
            <td>
              <button
                type="button"
                className="link-button"
                onClick={(e) => {
                  e.stopPropagation();
                  onSelect(t.name);
                }}
                aria-pressed={t.name === selected}
              >
                {t.name}
              </button>
            </td>
            <td>
              <CategoryChip category={t.category} />
            </td>
            <td className="description" title={t.description}>
              {t.description || <span className="muted">—</span>}
            </td>
            <td className="num">v{t.version}</td>
            <td>
              {t.builtin ? (
                <span className="badge">built-in</span>
              ) : t.project ? (
                <span className="badge">project {t.project}</span>
              ) : (
                <span className="badge">platform</span>
              )}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
