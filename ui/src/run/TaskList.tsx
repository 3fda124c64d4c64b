// The run's tasks as a list beside the graph: a way in without the mouse, and a summary (a
// count per status). Rows are memoised; a long list scrolls in a box that renders only the
// rows in view (and a few around them), so a 1,000-task run does not re-render 1,000 rows for
// every batch of live events.
import { memo, useMemo, useState } from "react";

const ROW = 26; // px: .task-list-scroll li in run.css
const SHOWN = 16; // rows in view: .task-list-scroll's max-height / ROW
const MARGIN = 8; // rows rendered beyond the view, each side
const WINDOW_ABOVE = 100; // tasks: a shorter list is rendered whole

export interface TaskListProps {
  tasks: Record<string, { status: string }>;
  onSelect: (name: string) => void;
}

export function TaskList({ tasks, onSelect }: TaskListProps) {
  const rows = useMemo(() => Object.entries(tasks).map(([name, t]) => [name, t.status]), [tasks]);
  const counts = useMemo(() => {
    const out = new Map<string, number>();
    for (const [, status] of rows) out.set(status, (out.get(status) ?? 0) + 1);
    return out;
  }, [rows]);
  const [top, setTop] = useState(0);
  const windowed = rows.length > WINDOW_ABOVE;
  const first = windowed ? Math.max(0, Math.floor(top / ROW) - MARGIN) : 0;
  const last = windowed ? Math.min(rows.length, first + SHOWN + 2 * MARGIN) : rows.length;
  const list = (
    <ul>
      {first > 0 ? <li aria-hidden style={{ height: first * ROW }} /> : null}
      {rows.slice(first, last).map(([name, status]) => (
        <TaskRow key={name} name={name} status={status} onSelect={onSelect} />
      ))}
      {last < rows.length ? <li aria-hidden style={{ height: (rows.length - last) * ROW }} /> : null}
    </ul>
  );
  return (
    <div className="card task-list" data-testid="task-list">
      <div className="row wrap">
        {[...counts].map(([status, n]) => (
          <span key={status} className="badge">
            {n} {status.replace("_", " ")}
          </span>
        ))}
      </div>
      {windowed ? (
        <div
          className="task-list-scroll"
          onScroll={(event) => setTop(event.currentTarget.scrollTop)}
        >
          {list}
        </div>
      ) : (
        list
      )}
    </div>
  );
}

const TaskRow = memo(function TaskRow({
  name,
  status,
  onSelect,
}: {
  name: string;
  status: string;
  onSelect: (name: string) => void;
}) {
  return (
    <li>
      <button type="button" className="link" onClick={() => onSelect(name)}>
        <span className="status" style={{ ["--status-color" as string]: `var(--status-${status})` }} />
        {name}
      </button>
      <span className="hint">{status.replace("_", " ")}</span>
    </li>
  );
});
