// The project's secrets by name (never a value), with who set them and when, and an inline
// confirm to delete one.
import { useState } from "react";

import { useDeleteSecret, type SecretOut } from "../../api/secrets";
import { exactTime, timeAgo } from "../pipelines/when";

export function SecretsTable({ secrets }: { secrets: SecretOut[] }) {
  const remove = useDeleteSecret();
  const [asking, setAsking] = useState<string | null>(null);
  return (
    <table className="list" data-testid="secrets-table">
      <thead>
        <tr>
          <th>Name</th>
          <th>Created</th>
          <th>Updated</th>
          <th>By</th>
          <th className="actions">Actions</th>
        </tr>
      </thead>
      <tbody>
        {secrets.map((s) => (
          <tr key={s.name} data-testid={`secret-row-${s.name}`}>
            <td>
              <code>{s.name}</code>
            </td>
            <td title={exactTime(s.created_at)}>{timeAgo(s.created_at)}</td>
            <td title={exactTime(s.updated_at)}>{timeAgo(s.updated_at)}</td>
            <td>{s.created_by}</td>
            <td className="actions">
              {asking === s.name ? (
                <span className="confirm">
                  Delete {s.name}? Runs that refer to it are refused until it is set again.
                  <button
                    type="button"
                    className="danger"
                    disabled={remove.isPending}
                    onClick={() => remove.mutate(s.name, { onSuccess: () => setAsking(null) })}
                    data-testid="confirm-delete-secret"
                  >
                    Delete
                  </button>
                  <button type="button" className="ghost" onClick={() => setAsking(null)}>
                    Cancel
                  </button>
                  {remove.error && <span className="error">{remove.error.message}</span>}
                </span>
              ) : (
                <button
                  type="button"
                  className="danger"
                  aria-label={`Delete ${s.name}`}
                  onClick={() => {
                    remove.reset();
                    setAsking(s.name);
                  }}
                >
                  Delete
                </button>
              )}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
