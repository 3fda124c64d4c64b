// The pipeline as YAML, editable: each change that parses replaces the pipeline (undoable);
// a parse error is shown under the editor and changes nothing.
import { yaml } from "@codemirror/lang-yaml";
import CodeMirror from "@uiw/react-codemirror";
import { useState } from "react";

import { useEditor } from "./store";
import { fromYaml, toYaml } from "./yamlText";

const EXTENSIONS = [yaml()];

export function YamlView() {
  const pipeline = useEditor((s) => s.pipeline);
  const [shown, setShown] = useState({ pipeline, text: toYaml(pipeline) });
  const [problem, setProblem] = useState<string | null>(null);
  // The pipeline changed elsewhere (undo, the canvas): show it afresh.
  if (shown.pipeline !== pipeline) {
    setShown({ pipeline, text: toYaml(pipeline) });
    setProblem(null);
  }
  const onChange = (text: string) => {
    const parsed = fromYaml(text);
    if (!parsed.ok) {
      setShown({ pipeline, text });
      setProblem(parsed.line ? `line ${parsed.line}: ${parsed.message}` : parsed.message);
      return;
    }
    setProblem(null);
    setShown({ pipeline: parsed.pipeline, text });
    useEditor.getState().replace(parsed.pipeline);
  };
  return (
    <div className="yaml-view" data-testid="yaml-view">
      <CodeMirror
        value={shown.text}
        height="100%"
        extensions={EXTENSIONS}
        onChange={onChange}
        aria-label="Pipeline YAML"
        basicSetup={{ foldGutter: true, highlightActiveLine: true }}
      />
      {problem ? (
        <div className="error-box yaml-problem" role="alert" data-testid="yaml-error">
          {problem}
        </div>
      ) : (
        <div className="hint yaml-ok">Edits here change the graph as you type (Ctrl+Z undoes).</div>
      )}
    </div>
  );
}
