// The run's webhook deliveries (its pipeline's `alerts:`): shown only when there are some.
import { useRunAlerts } from "../api/runs";
import { formatTime } from "./format";

export function RunAlerts({ runId }: { runId: string }) {
  const alerts = useRunAlerts(runId);
  if (alerts.isError) return <p className="error">alerts: {alerts.error.message}</p>;
  const rows = alerts.data ?? [];
  if (rows.length === 0) return null;
  return (
    <section className="run-alerts card" data-testid="run-alerts">
      <h3>Alerts</h3>
      <table className="list compact">
        <thead>
          <tr>
            <th>Event</th>
            <th>Task</th>
            <th>Receiver</th>
            <th>Delivery</th>
            <th>Tries</th>
            <th>At</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((a) => (
            <tr key={a.id}>
              <td>{a.event}</td>
              <td>{a.task ?? "the run"}</td>
              <td className="mono ellipsis" title={a.url}>
                {a.url}
              </td>
              <td>
                <span className={`badge${a.status === "delivered" ? " on" : ""}`}>{a.status}</span>
                {a.last_error && <span className="error"> {a.last_error}</span>}
              </td>
              <td>{a.tries}</td>
              <td>{formatTime(a.delivered_at ?? a.next_try_at ?? a.created_at)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
