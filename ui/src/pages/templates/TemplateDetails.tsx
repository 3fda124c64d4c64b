// One template beside the list: what it is, its parameters, its versions and its YAML file.
import {
  useTemplate,
  useTemplateExport,
  useTemplateSchema,
  type TemplateSummary,
} from "../../api/templates";
import { CategoryChip } from "./CategoryChip";
import { ParamTable } from "./ParamTable";
import { TemplateVersions } from "./TemplateVersions";
import { YamlView } from "./YamlView";

interface Props {
  summary: TemplateSummary;
  canEdit: boolean;
  onClose: () => void;
}

export function TemplateDetails({ summary, canEdit, onClose }: Props) {
  const name = summary.name;
  const template = useTemplate(name);
  const schema = useTemplateSchema(name);
  const exported = useTemplateExport(name);
  const command = template.data?.template.command;
  return (
    <aside className="card template-details" aria-label={`Template ${name}`}>
      <header className="row">
        <h2>
          {name} <span className="num">v{summary.version}</span>
        </h2>
        <CategoryChip category={summary.category} />
        <span className="spacer" />
        <button type="button" className="ghost" onClick={onClose} aria-label="Close details">
          ✕
        </button>
      </header>
      {summary.description && <p>{summary.description}</p>}
      <dl className="facts">
        <dt>Image</dt>
        <dd>{summary.image ? <code>{summary.image}</code> : <span className="muted">none</span>}</dd>
        <dt>Where</dt>
        <dd>{summary.project ? `project ${summary.project}` : "platform-wide"}</dd>
        <dt>By</dt>
        <dd>{summary.creator}</dd>
        {summary.distributed !== "none" && (
          <>
            <dt>Distributed</dt>
            <dd>{summary.distributed}</dd>
          </>
        )}
      </dl>
      {command && (
        <details>
          <summary>Command</summary>
          <pre className="command">{command}</pre>
        </details>
      )}
      <h3>Parameters</h3>
      {schema.error && <p className="error">{schema.error.message}</p>}
      {schema.data && <ParamTable schema={schema.data} />}
      <h3>Versions</h3>
      <TemplateVersions name={name} canDelete={canEdit && !summary.builtin} />
      <h3>YAML</h3>
      {exported.error && <p className="error">{exported.error.message}</p>}
      {exported.data !== undefined && (
        <YamlView value={exported.data} label={`${name} as YAML`} height="240px" />
      )}
    </aside>
  );
}
