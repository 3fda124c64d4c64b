// One parameter in the builder: name, type, default (an input fitting the type), required,
// and below it help text, group and (for an enum) the choices. Problems show under a field.
import { PARAM_TYPES, type ParamRow, type ParamType, type Problems } from "./builderYaml";

interface Props {
  row: ParamRow;
  index: number;
  problems: Problems;
  onChange: (row: ParamRow) => void;
  onRemove: () => void;
}

const PLACEHOLDER: Record<ParamType, string> = {
  str: "text",
  text: "several lines",
  int: "42",
  float: "0.01",
  bool: "",
  enum: "one of the choices",
  list: "a, b or [\"a\", \"b\"]",
  json: '{"key": "value"}',
};

export function ParameterRowEditor({ row, index, problems, onChange, onRemove }: Props) {
  const at = `parameters[${index}]`;
  const set = (patch: Partial<ParamRow>) => onChange({ ...row, ...patch });
  const label = row.name || `parameter ${index + 1}`;
  return (
    <fieldset className="param-row" data-testid={`param-row-${index}`}>
      <div className="param-line">
        <Field label="Name" problem={problems[`${at}.name`] ?? problems[at]}>
          <input
            value={row.name}
            onChange={(e) => set({ name: e.target.value.trim() })}
            aria-invalid={Boolean(problems[`${at}.name`])}
            placeholder="learning_rate"
            data-testid={`param-name-${index}`}
          />
        </Field>
        <Field label="Type">
          <select
            value={row.type}
            onChange={(e) => set({ type: e.target.value as ParamType })}
            data-testid={`param-type-${index}`}
          >
            {PARAM_TYPES.map((t) => (
              <option key={t}>{t}</option>
            ))}
          </select>
        </Field>
        <Field label="Default" problem={problems[`${at}.default`]} wide>
          <DefaultInput row={row} index={index} onText={(defaultText) => set({ defaultText })} />
        </Field>
        <label className="check">
          <input
            type="checkbox"
            checked={row.required}
            onChange={(e) => set({ required: e.target.checked })}
          />
          Required
        </label>
        <button type="button" className="ghost remove" onClick={onRemove} aria-label={`Remove ${label}`}>
          ✕
        </button>
      </div>
      <div className="param-line">
        <Field label="Help" wide>
          <input
            value={row.description}
            onChange={(e) => set({ description: e.target.value })}
            placeholder="shown under the field in the editor"
          />
        </Field>
        <Field label="Group">
          <input value={row.group} onChange={(e) => set({ group: e.target.value })} />
        </Field>
        {row.type === "enum" && (
          <Field label="Choices" problem={problems[`${at}.choices`]} wide>
            <input
              value={row.choicesText}
              onChange={(e) => set({ choicesText: e.target.value })}
              aria-invalid={Boolean(problems[`${at}.choices`])}
              placeholder="adam, sgd, rmsprop"
              data-testid={`param-choices-${index}`}
            />
          </Field>
        )}
        {row.type === "enum" && (
          <label className="check" title="The choices are suggestions: any other text is taken">
            <input
              type="checkbox"
              checked={row.allowOther}
              onChange={(e) => set({ allowOther: e.target.checked })}
              data-testid={`param-allow-other-${index}`}
            />
            Other values
          </label>
        )}
        {(row.type === "str" || row.type === "text") && (
          <Field label="Pattern" problem={problems[`${at}.pattern`]} wide>
            <input
              className="mono"
              value={row.pattern}
              onChange={(e) => set({ pattern: e.target.value })}
              aria-invalid={Boolean(problems[`${at}.pattern`])}
              placeholder="a regular expression, e.g. s3://.+"
              data-testid={`param-pattern-${index}`}
            />
          </Field>
        )}
      </div>
    </fieldset>
  );
}

function DefaultInput({ row, index, onText }: { row: ParamRow; index: number; onText: (t: string) => void }) {
  const testId = `param-default-${index}`;
  if (row.type === "bool") {
    return (
      <select value={row.defaultText} onChange={(e) => onText(e.target.value)} data-testid={testId}>
        <option value="">(none)</option>
        <option value="true">true</option>
        <option value="false">false</option>
      </select>
    );
  }
  if (row.type === "text" || row.type === "json") {
    return (
      <textarea
        rows={2}
        className="mono"
        value={row.defaultText}
        onChange={(e) => onText(e.target.value)}
        placeholder={PLACEHOLDER[row.type]}
        data-testid={testId}
      />
    );
  }
  return (
    <input
      value={row.defaultText}
      onChange={(e) => onText(e.target.value)}
      placeholder={PLACEHOLDER[row.type]}
      inputMode={row.type === "int" || row.type === "float" ? "decimal" : undefined}
      data-testid={testId}
    />
  );
}

interface FieldProps {
  label: string;
  problem?: string;
  wide?: boolean;
  children: React.ReactNode;
}

export function Field({ label, problem, wide, children }: FieldProps) {
  return (
    <label className={wide ? "field wide" : "field"}>
      <span className="field-label">{label}</span>
      {children}
      {problem && <span className="error">{problem}</span>}
    </label>
  );
}
