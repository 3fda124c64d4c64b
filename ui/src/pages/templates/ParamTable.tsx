// A template's parameters as a table, read from its JSON Schema (x-type, x-group, x-order).
import type { ArgsSchema } from "../../api/templates";

export function ParamTable({ schema }: { schema: ArgsSchema }) {
  const required = new Set(schema.required ?? []);
  const rows = Object.entries(schema.properties).sort(
    ([, a], [, b]) => (a["x-order"] ?? 0) - (b["x-order"] ?? 0),
  );
  if (rows.length === 0) return <p className="muted">This template takes no parameters.</p>;
  return (
    <table className="list param-table" data-testid="param-table">
      <thead>
        <tr>
          <th>Name</th>
          <th>Type</th>
          <th>Default</th>
          <th>Group</th>
          <th>Description</th>
        </tr>
      </thead>
      <tbody>
        {rows.map(([name, p]) => (
          <tr key={name}>
            <td>
              <code>{name}</code>
              {required.has(name) && (
                <span className="required-mark" title="required">
                  {" "}
                  *
                </span>
              )}
            </td>
            <td>
              {p["x-type"] ?? String(p.type ?? "")}
              {p.enum && <div className="hint">{p.enum.map((c) => String(c)).join(" | ")}</div>}
            </td>
            <td>
              {p.default === undefined ? (
                <span className="muted">—</span>
              ) : (
                <code>{JSON.stringify(p.default)}</code>
              )}
            </td>
            <td>{p["x-group"] ?? ""}</td>
            <td>{p.description ?? ""}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
