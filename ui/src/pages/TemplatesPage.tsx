// Job templates: the list (filter by category, search on name and description), one
// template's details beside it, and the form to register one in the current project.
import { useMemo, useState } from "react";

import { useCanEdit } from "../api/pipelineList";
import { useTemplates, type RegisteredOut } from "../api/templates";
import { CategoryChip } from "./templates/CategoryChip";
import { RegisterTemplate } from "./templates/RegisterTemplate";
import { TemplateDetails } from "./templates/TemplateDetails";
import { TemplateList } from "./templates/TemplateList";
import "./pipelines/pipelines.css";
import "./templates/templates.css";

export function TemplatesPage() {
  const templates = useTemplates();
  const canEdit = useCanEdit();
  const [search, setSearch] = useState("");
  const [category, setCategory] = useState("");
  const [selected, setSelected] = useState<string | null>(null);
  const [registering, setRegistering] = useState(false);
  const [notice, setNotice] = useState("");
  const all = useMemo(() => templates.data ?? [], [templates.data]);
  const categories = useMemo(() => [...new Set(all.map((t) => t.category))].sort(), [all]);
  const shown = all.filter((t) => matches(t, search, category));
  const current = all.find((t) => t.name === selected) ?? null;
  const registered = (r: RegisteredOut) => {
    setRegistering(false);
    setSelected(r.name);
    setNotice(
      r.created
        ? `Registered ${r.name} v${r.version} in project ${r.project ?? ""}.`
        : `${r.name} is unchanged: v${r.version} has the same content.`,
    );
  };
  return (
    <div className="templates-page">
      <div className="toolbar">
        <h1>Templates</h1>
        <input
          type="search"
          placeholder="Search name and description"
          aria-label="Search templates"
          value={search}
          onChange={(e) => setSearch(e.target.value)}
        />
        <select
          aria-label="Category"
          value={category}
          onChange={(e) => setCategory(e.target.value)}
          data-testid="category-filter"
        >
          <option value="">All categories</option>
          {categories.map((c) => (
            <option key={c}>{c}</option>
          ))}
        </select>
        <div className="category-counts">
          {categories.map((c) => (
            <button
              key={c}
              type="button"
              className="chip-button"
              aria-pressed={c === category}
              onClick={() => setCategory(c === category ? "" : c)}
            >
              <CategoryChip category={c} /> {all.filter((t) => t.category === c).length}
            </button>
          ))}
        </div>
        <span className="spacer" />
        <button
          type="button"
          className="primary"
          onClick={() => setRegistering(true)}
          disabled={registering || !canEdit}
          title={canEdit ? undefined : "registering a template needs the developer role"}
          data-testid="register-template"
        >
          Register template
        </button>
      </div>
      {notice && !registering && (
        <p className="notice" role="status">
          {notice}
        </p>
      )}
      {registering && (
        <RegisterTemplate onRegistered={registered} onCancel={() => setRegistering(false)} />
      )}
      {templates.error && (
        <p className="error-box" role="alert">
          Could not list the templates: {templates.error.message}
        </p>
      )}
      {templates.isPending && <p className="muted">Loading templates…</p>}
      {!registering && templates.isSuccess && (
        <div className={current ? "templates-split" : undefined}>
          {shown.length > 0 ? (
            <TemplateList templates={shown} selected={selected} onSelect={setSelected} />
          ) : (
            <div className="card empty">
              <strong>{all.length === 0 ? "No templates yet" : "No template matches"}</strong>
              <p>
                {all.length === 0
                  ? "Register one with the form, or paste its YAML file."
                  : "Try another category or search."}
              </p>
            </div>
          )}
          {current && (
            <TemplateDetails summary={current} canEdit={canEdit} onClose={() => setSelected(null)} />
          )}
        </div>
      )}
    </div>
  );
}

function matches(t: { name: string; description: string; category: string }, q: string, c: string) {
  if (c && t.category !== c) return false;
  const needle = q.trim().toLowerCase();
  return !needle || t.name.includes(needle) || t.description.toLowerCase().includes(needle);
}
