// Test helpers for the forms: a controlled host that keeps the emitted value (so a field
// sees what it sent up, as in the editor), typing into a code editor, and what jsdom lacks
// for CodeMirror to measure text.
import { act } from "@testing-library/react";
import { EditorView } from "@uiw/react-codemirror";
import { useState, type ReactElement } from "react";

/** Renders `render(value, setValue)` and records every value sent up. */
export function Controlled<T>(props: {
  initial: T;
  seen: T[];
  render: (value: T, onChange: (next: T) => void) => ReactElement;
}) {
  const [value, setValue] = useState(props.initial);
  return props.render(value, (next) => {
    props.seen.push(next);
    setValue(next);
  });
}

/** Replaces the whole text of the code editor whose editable area is `content`. */
export function typeInCode(content: HTMLElement, text: string) {
  const view = EditorView.findFromDOM(content);
  if (!view) throw new Error("no code editor at this element");
  act(() => view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text } }));
}

/** jsdom has no layout: give CodeMirror empty rectangles to measure. */
export function stubLayout() {
  const rect = { x: 0, y: 0, top: 0, left: 0, right: 0, bottom: 0, width: 0, height: 0, toJSON: () => ({}) };
  const empty = Object.assign([], { item: () => null }) as unknown as DOMRectList;
  Range.prototype.getClientRects = () => empty;
  Range.prototype.getBoundingClientRect = () => rect as DOMRect;
}
