// /queues: the machine's pool (what is free of it) and each project's queue: its capability
// (used / limit), weight, and how many tasks run and wait in it. A platform admin edits a
// queue inline; everyone else reads.
import { Fragment, useState } from "react";

import { useMe } from "../api/auth";
import { useQueues, type QueueOut, type Usage } from "../api/queues";
import { QueueEditForm } from "./queues/QueueEditForm";
import { formatCpu, formatGiB, usedOf } from "./queues/quantities";
import "./queues/queues.css";

export function QueuesPage() {
  const queues = useQueues();
  const me = useMe();
  const admin = me.data?.is_admin === true;
  const [editing, setEditing] = useState<string | null>(null);
  const [saved, setSaved] = useState("");
  const report = queues.data;

  return (
    <div>
      <div className="toolbar">
        <h1>Queues</h1>
        <span className="live-dot" title="read again every few seconds">
          live
        </span>
      </div>
      {queues.isError && <p className="error-box">{queues.error.message}</p>}
      {queues.isPending && <p className="muted">Loading queues…</p>}
      {report && <PoolCard pool={report.pool} free={report.free} />}
      {saved && (
        <p className="hint" role="status" data-testid="queue-saved">
          {saved}
        </p>
      )}
      {report && report.queues.length === 0 && (
        <div className="empty card">
          <strong>No queue to show</strong>
          Each project has a queue; you see those of your projects.
        </div>
      )}
      {report && report.queues.length > 0 && (
        <table className="list" data-testid="queues">
          <thead>
            <tr>
              <th>Queue</th>
              <th>CPU used / limit</th>
              <th>Memory used / limit</th>
              <th>GPU used / limit</th>
              <th>Weight</th>
              <th>Running</th>
              <th>Waiting</th>
              {admin && <th aria-label="actions" />}
            </tr>
          </thead>
          <tbody>
            {report.queues.map((queue) => (
              <Fragment key={queue.name}>
                <QueueRow
                  queue={queue}
                  admin={admin}
                  onEdit={() => {
                    setSaved("");
                    setEditing(editing === queue.name ? null : queue.name);
                  }}
                />
                {admin && editing === queue.name && (
                  <tr className="queue-edit-row">
                    <td colSpan={8}>
                      <QueueEditForm
                        queue={queue}
                        onCancel={() => setEditing(null)}
                        onSaved={() => {
                          setEditing(null);
                          setSaved(`Saved the queue ${queue.name}.`);
                        }}
                      />
                    </td>
                  </tr>
                )}
              </Fragment>
            ))}
          </tbody>
        </table>
      )}
      {report && !admin && me.isSuccess && (
        <p className="hint">Only a platform admin changes a queue&apos;s limits and weight.</p>
      )}
    </div>
  );
}

function PoolCard({ pool, free }: { pool: Usage; free: Usage }) {
  return (
    <div className="card pool" data-testid="pool" aria-label="the pool">
      <div>
        <span className="hint">CPU</span>
        <span>
          <strong>{formatCpu(free.cpu)}</strong> free of {formatCpu(pool.cpu)} cores
        </span>
      </div>
      <div>
        <span className="hint">Memory</span>
        <span>
          <strong>{formatGiB(free.memory)}</strong> free of {formatGiB(pool.memory)}
        </span>
      </div>
      <div>
        <span className="hint">GPU</span>
        <span>
          <strong>{free.gpu}</strong> free of {pool.gpu}
        </span>
      </div>
    </div>
  );
}

function QueueRow({
  queue,
  admin,
  onEdit,
}: {
  queue: QueueOut;
  admin: boolean;
  onEdit: () => void;
}) {
  const { used } = queue;
  return (
    <tr data-testid={`queue-row-${queue.name}`}>
      <td>
        <strong>{queue.name}</strong>
      </td>
      <td data-testid="queue-cpu">
        {usedOf(formatCpu(used.cpu), queue.cpu === null ? null : formatCpu(queue.cpu))}
      </td>
      <td data-testid="queue-memory">
        {usedOf(formatGiB(used.memory), queue.memory === null ? null : formatGiB(queue.memory))}
      </td>
      <td data-testid="queue-gpu">
        {usedOf(String(used.gpu), queue.gpu === null ? null : String(queue.gpu))}
      </td>
      <td>{queue.weight}</td>
      <td>{queue.running}</td>
      <td>{queue.waiting > 0 ? <strong>{queue.waiting}</strong> : 0}</td>
      {admin && (
        <td className="actions">
          <button type="button" onClick={onEdit} aria-label={`Edit ${queue.name}`}>
            Edit
          </button>
        </td>
      )}
    </tr>
  );
}
