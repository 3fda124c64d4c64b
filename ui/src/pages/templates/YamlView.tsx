// YAML in a code editor (CodeMirror with YAML highlighting): read-only for an export, editable
// for registering a template from its file.
import { yaml } from "@codemirror/lang-yaml";
import CodeMirror from "@uiw/react-codemirror";

const EXTENSIONS = [yaml()];

interface Props {
  value: string;
  onChange?: (value: string) => void;
  label: string;
  height?: string;
}

export function YamlView({ value, onChange, label, height = "320px" }: Props) {
  return (
    <div className="yaml-view" aria-label={label} data-testid="yaml-view">
      <CodeMirror
        value={value}
        height={height}
        extensions={EXTENSIONS}
        editable={Boolean(onChange)}
        readOnly={!onChange}
        onChange={onChange}
        basicSetup={{ foldGutter: false, highlightActiveLine: Boolean(onChange) }}
      />
    </div>
  );
}
