// The task's name: checked as typed (the task-name pattern, unique in the pipeline) and
// sent up only when it is valid, so the canvas never holds a task with a broken name.
import { TASK_NAME } from "../checks";
import { joinMessages } from "../errors";
import { describedBy, FieldFrame } from "../Field";
import { useDraft } from "../useDraft";

export function nameProblem(name: string, current: string, taskNames: string[]): string | undefined {
  if (!name) return "give the task a name";
  if (!TASK_NAME.test(name)) {
    return "start with a letter; then letters, digits, _ or - (at most 63 characters)";
  }
  const others = [...taskNames];
  const own = others.indexOf(current);
  if (own >= 0) others.splice(own, 1);
  return others.includes(name) ? `another task is named ${name}: pick a new name` : undefined;
}

export function TaskNameField(props: {
  id: string;
  name: string;
  taskNames: string[];
  error?: string;
  onChange: (name: string) => void;
}) {
  const { id, name, taskNames } = props;
  const [text, setText] = useDraft(name, (v: string) => v);
  const error = joinMessages(text !== name ? nameProblem(text, name, taskNames) : undefined, props.error);
  return (
    <FieldFrame id={id} label="name" required error={error}>
      <input
        id={id}
        className="mono"
        data-testid="task-name"
        value={text}
        aria-required
        aria-invalid={error ? true : undefined}
        aria-describedby={describedBy(id, error)}
        onChange={(e) => {
          const next = e.target.value;
          const ok = !nameProblem(next, name, taskNames);
          setText(next, ok ? next : name);
          if (ok && next !== name) props.onChange(next);
        }}
      />
    </FieldFrame>
  );
}
