// cpu, memory and gpu of a task; the template's own values are the placeholders.
import { useId } from "react";

import type { TemplateOut } from "../../api/templates";
import type { ResourcesJson } from "../../editor/types";
import { checkMemory, formatBytes, readCpu, readNumber } from "../checks";
import { errorAt } from "../errors";
import type { FieldErrors } from "../../editor/types";
import { CheckedInput, withField } from "../inputs";

function readMemory(text: string) {
  const trimmed = text.trim();
  if (!trimmed) return {};
  return { value: /^\d+$/.test(trimmed) ? Number(trimmed) : trimmed, error: checkMemory(trimmed) };
}

export function ResourcesFields(props: {
  resources: ResourcesJson | undefined;
  template: TemplateOut | undefined;
  errors: FieldErrors;
  onChange: (next: ResourcesJson | undefined) => void;
}) {
  const id = useId();
  const resources = props.resources ?? {};
  const own = props.template?.template.resources;
  const set = (key: string, value: unknown) => {
    const next = withField(resources, key, value);
    props.onChange(Object.keys(next).length ? next : undefined);
  };
  return (
    <div className="cf-grid">
      <CheckedInput
        id={`${id}-cpu`}
        label="cpu"
        testId="task-cpu"
        value={resources.cpu}
        read={readCpu}
        placeholder={own?.cpu != null ? String(own.cpu) : "1"}
        error={errorAt(props.errors, "resources.cpu")}
        help="cores: 2, 0.5, 500m"
        onChange={(v) => set("cpu", v)}
      />
      <CheckedInput
        id={`${id}-memory`}
        label="memory"
        testId="task-memory"
        value={resources.memory}
        read={readMemory}
        placeholder={own?.memory != null ? formatBytes(own.memory) : "512Mi"}
        error={errorAt(props.errors, "resources.memory")}
        help="512Mi, 2Gi"
        onChange={(v) => set("memory", v)}
      />
      <CheckedInput
        id={`${id}-gpu`}
        label="gpu"
        testId="task-gpu"
        value={resources.gpu}
        read={(text) => readNumber(text, { integer: false, minimum: 0 })}
        placeholder={own?.gpu ? String(own.gpu) : "0"}
        error={errorAt(props.errors, "resources.gpu")}
        help="devices"
        onChange={(v) => set("gpu", v)}
      />
    </div>
  );
}
