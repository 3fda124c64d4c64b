// A distributed task's gang in the task panel: one row per member (name, role, rank, state,
// exit code, GPUs, ports), which member failed first, and what the task does when one fails.
// Shows nothing for a task that is not distributed.
import { useTaskWorkers, type Worker, type Workers } from "../api/workers";
import { Status } from "../components/Status";
import { Sparkline } from "./Sparkline";
import { formatBytes, formatPercent } from "./units";

export function WorkersPanel({ runId, task }: { runId: string; task: string }) {
  const workers = useTaskWorkers(runId, task);
  if (workers.isError) {
    return <p className="error">workers: {workers.error.message}</p>;
  }
  if (!workers.data) return null;
  return <WorkersTable gang={workers.data} />;
}

export function WorkersTable({ gang }: { gang: Workers }) {
  return (
    <section className="workers" data-testid="workers" aria-label="workers">
      <h3>
        Workers <span className="hint">{gang.kind} · attempt {gang.attempt}</span>
      </h3>
      {gang.failure && (
        <p className="error-box workers-failure" role="alert" data-testid="workers-failure">
          {gang.failure}
        </p>
      )}
      <div className="workers-scroll">
      <table className="list compact">
        <thead>
          <tr>
            <th>Name</th>
            <th>Role</th>
            <th>Rank</th>
            <th>State</th>
            <th>Exit</th>
            <th title="its own process tree: now while it runs, else its peak">CPU</th>
            <th title="its own process tree's RSS: now while it runs, else its peak">Memory</th>
            <th>GPUs</th>
            <th>Ports</th>
          </tr>
        </thead>
        <tbody>
          {gang.workers.map((w) => (
            <WorkerRow key={w.name} worker={w} />
          ))}
        </tbody>
      </table>
      </div>
      <p className="hint" data-testid="workers-policy">
        {policyText(gang)}
      </p>
    </section>
  );
}

function WorkerRow({ worker }: { worker: Worker }) {
  const ports = Object.entries(worker.ports).map(([name, port]) => `${name}:${port}`);
  const usage = worker.usage;
  const running = worker.state === "running";
  return (
    <tr data-testid={`worker-${worker.name}`}>
      <td className="mono" title={worker.host ? `on ${worker.host}` : undefined}>
        {worker.name}
      </td>
      <td>
        {worker.role}
        {worker.service && <span className="hint"> (service)</span>}
      </td>
      <td className="mono">{worker.rank}</td>
      <td>
        <Status status={worker.state} />
      </td>
      <td className="mono">{worker.exit_code ?? "—"}</td>
      <td className="mono" data-testid="worker-cpu" title={usage ? `peak ${formatPercent(usage.cpu_max)}` : undefined}>
        {usage ? (running ? formatPercent(usage.cpu) : `peak ${formatPercent(usage.cpu_max)}`) : "—"}
      </td>
      <td className="mono" data-testid="worker-memory" title={usage ? `peak ${formatBytes(usage.rss_max)}` : undefined}>
        {usage ? (running ? formatBytes(usage.rss) : `peak ${formatBytes(usage.rss_max)}`) : "—"}
        {worker.series && worker.series.at.length > 1 && (
          <Sparkline
            points={worker.series.at.map((at, i) => ({ t: at * 1000, v: worker.series!.rss[i] }))}
            width={80}
            height={16}
            label={`${worker.name} memory over time`}
          />
        )}
      </td>
      <td className="mono">{worker.gpus || "—"}</td>
      <td className="mono" title={ports.join("\n") || undefined}>
        {ports.length > 2 ? `${ports.slice(0, 2).join(" ")} +${ports.length - 2}` : ports.join(" ") || "—"}
      </td>
    </tr>
  );
}

/** "When a member fails: stop the gang and fail the attempt (fail_fast)." */
export function policyText(gang: Pick<Workers, "on_failure" | "max_restarts">): string {
  if (gang.on_failure === "restart_group") {
    const times = gang.max_restarts === 1 ? "once" : `up to ${gang.max_restarts} times`;
    return `When a member fails: start the whole gang again, ${times} (restart_group).`;
  }
  if (gang.on_failure === "fail_fast") {
    return "When a member fails: stop the others and fail the attempt (fail_fast).";
  }
  return `When a member fails: ${gang.on_failure}.`;
}
