// A small code editor (CodeMirror) for commands, scripts and JSON. Its editable area is
// labelled by the field's label and carries the field's test id, like a plain input.
import { json } from "@codemirror/lang-json";
import { python } from "@codemirror/lang-python";
import CodeMirror, { EditorView } from "@uiw/react-codemirror";
import { useMemo } from "react";

export type CodeLanguage = "json" | "python" | "plain";

export function CodeEditor(props: {
  id: string;
  value: string;
  onChange: (text: string) => void;
  language?: CodeLanguage;
  placeholder?: string;
  invalid?: boolean;
  required?: boolean;
  describedBy?: string;
  testId?: string;
  minHeight?: string;
}) {
  const { id, language, invalid, required, describedBy, testId } = props;
  const extensions = useMemo(() => {
    const attributes: Record<string, string> = {
      "aria-labelledby": `${id}-label`,
      "aria-multiline": "true",
      id,
    };
    if (invalid) attributes["aria-invalid"] = "true";
    if (required) attributes["aria-required"] = "true";
    if (describedBy) attributes["aria-describedby"] = describedBy;
    if (testId) attributes["data-testid"] = testId;
    const lang = language === "json" ? [json()] : language === "python" ? [python()] : [];
    return [...lang, EditorView.lineWrapping, EditorView.contentAttributes.of(attributes)];
  }, [id, language, invalid, required, describedBy, testId]);
  return (
    <div className={`cf-code${invalid ? " cf-code-invalid" : ""}`}>
      <CodeMirror
        value={props.value}
        onChange={props.onChange}
        extensions={extensions}
        placeholder={props.placeholder}
        minHeight={props.minHeight ?? "56px"}
        maxHeight="320px"
        basicSetup={{ foldGutter: false, highlightActiveLine: false, lineNumbers: true }}
      />
    </div>
  );
}
