// The palette on the left: the project's templates grouped by category (a colour and a count
// per category), a search on name and description, a hover card per template, and a plain
// command entry. Drag an entry onto the canvas, or click it to add it in the middle.
import { useReactFlow } from "@xyflow/react";
import { type DragEvent, useMemo, useRef, useState } from "react";

import { type TemplateSummary, useTemplates } from "../../api/templates";
import { categoryColor } from "../categories";
import { useEditor } from "../store";
import { DRAG_MIME, useDropTask } from "./dropTask";
import { HoverCard } from "./HoverCard";
import { COMMAND_ENTRY, TEMPLATE_ENTRY } from "./newTask";

export function groupTemplates(
  templates: TemplateSummary[],
  search: string,
): [string, TemplateSummary[]][] {
  const needle = search.trim().toLowerCase();
  const groups = new Map<string, TemplateSummary[]>();
  for (const t of templates) {
    const text = `${t.name} ${t.description}`.toLowerCase();
    if (needle && !text.includes(needle)) continue;
    const category = t.category || "other";
    groups.set(category, [...(groups.get(category) ?? []), t]);
  }
  return [...groups.entries()].sort(([a], [b]) => a.localeCompare(b));
}

export function TemplatePalette() {
  const templates = useTemplates();
  const [search, setSearch] = useState("");
  const [hover, setHover] = useState<{ name: string; top: number } | null>(null);
  const groups = useMemo(() => groupTemplates(templates.data ?? [], search), [templates.data, search]);
  const addAtCentre = useAddAtCentre();
  const closing = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const keepOpen = () => clearTimeout(closing.current);
  const close = () => {
    clearTimeout(closing.current);
    closing.current = setTimeout(() => setHover(null), 150);
  };

  const start = (entry: string) => (event: DragEvent) => {
    event.dataTransfer.setData(DRAG_MIME, entry);
    event.dataTransfer.effectAllowed = "copy";
    setHover(null);
  };
  return (
    <aside className="palette" aria-label="Template palette">
      <input
        type="search"
        placeholder="Search templates"
        aria-label="Search templates"
        value={search}
        onChange={(event) => setSearch(event.target.value)}
      />
      <div className="palette-list">
        <div className="palette-group">
          <div className="palette-group-title">start with</div>
          <button
            type="button"
            className="palette-item"
            draggable
            data-testid="palette-item-command"
            onDragStart={start(COMMAND_ENTRY)}
            onClick={() => addAtCentre(COMMAND_ENTRY)}
            style={{ ["--cat" as string]: categoryColor(undefined) }}
          >
            <span className="palette-dot" />
            plain command
          </button>
          <button
            type="button"
            className="palette-item"
            data-testid="palette-item-note"
            onClick={() => addAtCentre("note")}
            style={{ ["--cat" as string]: "#eab308" }}
          >
            <span className="palette-dot" />
            note
          </button>
        </div>
        {templates.isPending ? <p className="hint">Loading templates…</p> : null}
        {templates.error ? <p className="error">{templates.error.message}</p> : null}
        {templates.data && groups.length === 0 ? (
          <p className="hint">
            {search ? `No template matches “${search}”.` : "No templates registered yet."}
          </p>
        ) : null}
        {groups.map(([category, items]) => (
          <div className="palette-group" key={category}>
            <div className="palette-group-title" style={{ color: categoryColor(category) }}>
              {category} <span className="badge">{items.length}</span>
            </div>
            {items.map((t) => (
              <button
                type="button"
                key={t.name}
                className="palette-item"
                draggable
                data-testid={`palette-item-${t.name}`}
                aria-label={`Add template ${t.name}`}
                onDragStart={start(TEMPLATE_ENTRY + t.name)}
                onClick={() => addAtCentre(TEMPLATE_ENTRY + t.name)}
                onMouseEnter={(event) => {
                  keepOpen();
                  setHover({ name: t.name, top: event.currentTarget.getBoundingClientRect().top });
                }}
                onMouseLeave={close}
                style={{ ["--cat" as string]: categoryColor(category) }}
              >
                <span className="palette-dot" />
                <span className="palette-name">{t.name}</span>
              </button>
            ))}
          </div>
        ))}
      </div>
      {hover ? (
        <HoverCard
          summary={templates.data?.find((t) => t.name === hover.name)}
          top={hover.top}
          onMouseEnter={keepOpen}
          onMouseLeave={close}
        />
      ) : null}
    </aside>
  );
}

/** Add an entry in the middle of the visible canvas (click instead of drag). */
function useAddAtCentre() {
  const { screenToFlowPosition } = useReactFlow();
  const dropTask = useDropTask();
  return (entry: string) => {
    const pane = document.querySelector(".editor-canvas")?.getBoundingClientRect();
    const centre = pane
      ? { x: pane.left + pane.width / 2, y: pane.top + pane.height / 2 }
      : { x: 400, y: 300 };
    const at = screenToFlowPosition(centre);
    const jitter = Math.round(Math.random() * 4) * 16;
    const position = { x: at.x - 110 + jitter, y: at.y - 32 + jitter };
    if (entry === "note") useEditor.getState().addNote(position);
    else void dropTask(entry, position);
  };
}
