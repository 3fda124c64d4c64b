// A platform admin's inline edit of one queue: cpu, memory, gpu (empty: no limit) and weight.
// Every field is sent, so the queue ends as the form shows it; the server's refusal (a bad
// value, or 403 for a user who is not a platform admin) shows next to the form.
import { useState, type FormEvent } from "react";

import { useChangeQueue, type QueueChange, type QueueOut } from "../../api/queues";
import { formatCpu, memoryInput } from "./quantities";

const NO_LIMIT = "none";

export interface QueueEditFormProps {
  queue: QueueOut;
  onSaved: () => void;
  onCancel: () => void;
}

export function QueueEditForm({ queue, onSaved, onCancel }: QueueEditFormProps) {
  const [cpu, setCpu] = useState(queue.cpu === null ? "" : formatCpu(queue.cpu));
  const [memory, setMemory] = useState(memoryInput(queue.memory));
  const [gpu, setGpu] = useState(queue.gpu === null ? "" : String(queue.gpu));
  const [weight, setWeight] = useState(String(queue.weight));
  const [problem, setProblem] = useState("");
  const change = useChangeQueue(queue.name);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setProblem("");
    const body: QueueChange = {
      cpu: cpu.trim() || NO_LIMIT,
      memory: memory.trim() || NO_LIMIT,
      gpu: gpu.trim() || NO_LIMIT,
    };
    if (weight.trim()) {
      const value = Number(weight);
      if (!Number.isFinite(value) || value <= 0) {
        setProblem(`weight: '${weight.trim()}' is not a positive number: use e.g. 3`);
        return;
      }
      body.weight = value;
    }
    change.mutate(body, { onSuccess: onSaved });
  };
  const error = problem || change.error?.message;
  const field = (label: string, value: string, set: (v: string) => void, hint: string) => (
    <label>
      <span className="hint">{label}</span>
      <input
        value={value}
        onChange={(e) => set(e.target.value)}
        placeholder={hint}
        aria-label={`${label} of ${queue.name}`}
        data-testid={`queue-input-${label}`}
        size={8}
      />
    </label>
  );

  return (
    <form className="queue-form" onSubmit={submit} aria-label={`edit the queue ${queue.name}`}>
      {field("cpu", cpu, setCpu, "no limit")}
      {field("memory", memory, setMemory, "no limit")}
      {field("gpu", gpu, setGpu, "no limit")}
      {field("weight", weight, setWeight, "1")}
      <div className="row queue-form-actions">
        <button type="submit" className="primary" disabled={change.isPending} data-testid="queue-save">
          {change.isPending ? "Saving…" : "Save"}
        </button>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
      {error ? (
        <p className="error queue-error" role="alert" data-testid="queue-error">
          {error}
        </p>
      ) : (
        <p className="hint queue-error">Empty: no limit. Memory as 64Gi or 512Mi; cpu as 16 or 500m.</p>
      )}
    </form>
  );
}
