// The card beside a palette entry: description, image, version and a docs link when the
// template file gives one.
import { type TemplateSummary, useTemplate } from "../../api/templates";

const DOC_KEYS = ["docs", "doc", "documentation", "url", "help"];

export function docsLink(template: Record<string, unknown> | undefined): string | undefined {
  for (const key of DOC_KEYS) {
    const value = template?.[key];
    if (typeof value === "string" && /^https?:\/\//.test(value)) return value;
  }
  return undefined;
}

interface Props {
  summary: TemplateSummary | undefined;
  top: number;
  onMouseEnter: () => void;
  onMouseLeave: () => void;
}

export function HoverCard({ summary, top, onMouseEnter, onMouseLeave }: Props) {
  const full = useTemplate(summary?.name);
  if (!summary) return null;
  const docs = docsLink(full.data?.template as Record<string, unknown> | undefined);
  return (
    <div
      className="hover-card card"
      role="tooltip"
      data-testid="template-hover-card"
      style={{ top: Math.max(56, Math.min(top - 8, window.innerHeight - 220)) }}
      onMouseEnter={onMouseEnter}
      onMouseLeave={onMouseLeave}
    >
      <h3>
        {summary.name} <span className="badge">v{summary.version}</span>
      </h3>
      <p>{summary.description || <span className="muted">No description.</span>}</p>
      <dl>
        <dt>image</dt>
        <dd className="mono">{summary.image || "—"}</dd>
        <dt>category</dt>
        <dd>{summary.category || "other"}</dd>
        {summary.distributed && summary.distributed !== "none" ? (
          <>
            <dt>distributed</dt>
            <dd>{summary.distributed}</dd>
          </>
        ) : null}
      </dl>
      {docs ? (
        <a href={docs} target="_blank" rel="noreferrer">
          Documentation
        </a>
      ) : null}
    </div>
  );
}
