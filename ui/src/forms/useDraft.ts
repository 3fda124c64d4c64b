// What a field shows while it is edited (a half-typed number, JSON text, rows of a map with
// a key not yet typed): kept locally, and replaced when the value changes from outside
// (undo, another panel, a reload).
import { useState } from "react";

function same(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  try {
    return JSON.stringify(a) === JSON.stringify(b);
  } catch {
    return false;
  }
}

export function useDraft<T, D = string>(value: T, toDraft: (value: T) => D) {
  const [draft, setDraft] = useState(() => ({ shown: toDraft(value), source: value }));
  let current = draft;
  if (!same(draft.source, value)) {
    current = { shown: toDraft(value), source: value };
    setDraft(current);
  }
  /** Show `shown`; `emitted` is the value it was sent up as (the value prop to expect). */
  const update = (shown: D, emitted: T) => setDraft({ shown, source: emitted });
  return [current.shown, update] as const;
}
