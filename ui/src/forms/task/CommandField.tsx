// The command of a task without a template: a shell command in a code editor, or, when the
// task gives it as an argument list, one row per argument.
import { CodeEditor } from "../CodeEditor";
import { describedBy, FieldFrame } from "../Field";

export function CommandField(props: {
  id: string;
  command: string | string[] | undefined;
  error?: string;
  onChange: (command: string | string[] | undefined) => void;
}) {
  const { id, command, onChange } = props;
  const empty = command === undefined || command === "" || (Array.isArray(command) && command.length === 0);
  const error = props.error ?? (empty ? "the command is empty: give the shell command the task runs" : undefined);
  const help = Array.isArray(command)
    ? "Run as is, one argument per row (no shell)."
    : "Run with sh -c; template variables such as {{ params.lr }} are rendered first.";
  return (
    <FieldFrame id={id} label="command" required error={error} help={help}>
      {Array.isArray(command) ? (
        <div className="cf-rows" role="group" aria-labelledby={`${id}-label`} data-testid="task-command">
          {command.map((arg, i) => (
            <div className="cf-row" key={i}>
              <input
                className="mono"
                aria-label={`argument ${i + 1}`}
                value={arg}
                onChange={(e) => onChange(command.map((a, j) => (j === i ? e.target.value : a)))}
              />
              <button
                type="button"
                className="ghost cf-icon"
                aria-label={`remove argument ${i + 1}`}
                onClick={() => onChange(command.filter((_, j) => j !== i))}
              >
                ×
              </button>
            </div>
          ))}
          <div className="cf-row">
            <button type="button" className="ghost cf-add" onClick={() => onChange([...command, ""])}>
              + add argument
            </button>
          </div>
        </div>
      ) : (
        <CodeEditor
          id={id}
          testId="task-command"
          language="python"
          value={command ?? ""}
          placeholder="echo hello"
          invalid={Boolean(error)}
          required
          describedBy={describedBy(id, error, help)}
          minHeight="88px"
          onChange={(text) => onChange(text)}
        />
      )}
    </FieldFrame>
  );
}
