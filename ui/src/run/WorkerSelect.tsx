// The log panel's choice of member for a distributed task: "All workers" (the gang's log,
// each line prefixed with its member) or one member's own log. Nothing for a plain task.
import { useTaskWorkers } from "../api/workers";

export interface WorkerSelectProps {
  runId: string;
  task: string;
  /** The chosen member's name; "" for all of them. */
  value: string;
  onChange: (worker: string) => void;
}

export function WorkerSelect({ runId, task, value, onChange }: WorkerSelectProps) {
  const workers = useTaskWorkers(runId, task);
  const members = workers.data?.workers ?? [];
  if (members.length === 0 && !value) return null;
  const names = members.map((w) => w.name);
  // A member chosen in an earlier attempt's gang stays choosable.
  if (value && !names.includes(value)) names.push(value);
  return (
    <label className="inline">
      <span className="hint">Worker</span>
      <select
        aria-label="worker"
        data-testid="log-worker"
        value={value}
        onChange={(e) => onChange(e.target.value)}
      >
        <option value="">All workers</option>
        {names.map((name) => (
          <option key={name} value={name}>
            {name}
          </option>
        ))}
      </select>
    </label>
  );
}
