// The parameter-schema builder: the template's fields and its parameters as rows, with the
// YAML file it makes shown live beside it.
import { Field, ParameterRowEditor } from "./ParameterRowEditor";
import { emptyParam, toYaml, type BuilderState, type Problems } from "./builderYaml";

interface Props {
  state: BuilderState;
  problems: Problems;
  onChange: (state: BuilderState) => void;
}

export function TemplateBuilder({ state, problems, onChange }: Props) {
  const set = (patch: Partial<BuilderState>) => onChange({ ...state, ...patch });
  const params = state.parameters;
  return (
    <div className="builder">
      <div className="builder-form">
        <div className="param-line">
          <Field label="Name" problem={problems.name}>
            <input
              value={state.name}
              onChange={(e) => set({ name: e.target.value.trim() })}
              aria-invalid={Boolean(problems.name)}
              placeholder="train-model"
              data-testid="template-name"
            />
          </Field>
          <Field label="Category" problem={problems.category}>
            <input
              value={state.category}
              onChange={(e) => set({ category: e.target.value.trim() })}
              list="template-categories"
            />
          </Field>
          <Field label="Image" problem={problems.image} wide>
            <input
              value={state.image}
              onChange={(e) => set({ image: e.target.value.trim() })}
              placeholder="python:3.11-slim (for Kubernetes)"
            />
          </Field>
        </div>
        <Field label="Description" problem={problems.description}>
          <input value={state.description} onChange={(e) => set({ description: e.target.value })} />
        </Field>
        <Field label="Command" problem={problems.command}>
          <textarea
            className="mono"
            rows={3}
            value={state.command}
            onChange={(e) => set({ command: e.target.value })}
            aria-invalid={Boolean(problems.command)}
            placeholder="python train.py --lr {{ args.lr }}"
            data-testid="template-command"
          />
          <span className="hint">
            Use a parameter as <code>{"{{ args.NAME }}"}</code>.
          </span>
        </Field>
        <div className="row">
          <h3>Parameters</h3>
          <span className="hint">{params.length === 0 ? "none yet" : `${params.length}`}</span>
        </div>
        {params.map((row, i) => (
          <ParameterRowEditor
            key={row.key}
            row={row}
            index={i}
            problems={problems}
            onChange={(next) => set({ parameters: params.map((r, j) => (j === i ? next : r)) })}
            onRemove={() => set({ parameters: params.filter((_, j) => j !== i) })}
          />
        ))}
        <button
          type="button"
          onClick={() => set({ parameters: [...params, emptyParam()] })}
          data-testid="add-parameter"
        >
          + Add parameter
        </button>
      </div>
      <div className="builder-preview">
        <span className="field-label">The template file</span>
        <pre className="yaml-preview" data-testid="builder-yaml">
          {toYaml(state)}
        </pre>
      </div>
    </div>
  );
}
