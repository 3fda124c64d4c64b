// Node objects that keep their identity while nothing they show changes. xyflow rebuilds an
// internal node, and re-renders it, for every user node that is a new object (adoptUserNodes
// compares by identity), so a canvas that hands it 1,000 fresh objects per mouse move while one
// node is dragged (or per status event of a run) redraws all 1,000. `reuseNodes` hands back the
// previous object of every node that is the same as before (and the previous array when every
// node is).

/** Equal up to `depth` levels of plain objects and arrays (identity below that). */
export function similar(a: unknown, b: unknown, depth = 3): boolean {
  if (Object.is(a, b)) return true;
  if (depth === 0 || typeof a !== "object" || typeof b !== "object" || !a || !b) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const left = a as Record<string, unknown>;
  const right = b as Record<string, unknown>;
  const keys = Object.keys(left);
  if (keys.length !== Object.keys(right).length) return false;
  return keys.every((key) => key in right && similar(left[key], right[key], depth - 1));
}

export interface NodeCache<T> {
  /** The node handed out last time per id, with the inputs it was built from. */
  entries: Map<string, { inputs: readonly unknown[]; node: T }>;
  /** The array handed out last time. */
  list: T[];
}

export const newNodeCache = <T>(): NodeCache<T> => ({ entries: new Map(), list: [] });

/**
 * Each node as `build(inputs)` makes it, but the previous object of its id when the inputs
 * are the same objects as last time (no build at all) or the built node is `similar` to the
 * previous one; the previous array when every node is the previous one. Ids not seen this
 * time leave the cache.
 */
export function reuseNodes<T extends { id: string }>(
  cache: NodeCache<T>,
  items: readonly { id: string; inputs: readonly unknown[] }[],
  build: (inputs: readonly unknown[]) => T,
): T[] {
  const next = new Map<string, { inputs: readonly unknown[]; node: T }>();
  const out = items.map(({ id, inputs }) => {
    const before = cache.entries.get(id);
    let node: T;
    if (before && sameInputs(before.inputs, inputs)) node = before.node;
    else {
      const built = build(inputs);
      node = before && similar(before.node, built) ? before.node : built;
    }
    next.set(id, { inputs, node });
    return node;
  });
  cache.entries = next;
  const same = out.length === cache.list.length && out.every((node, i) => node === cache.list[i]);
  if (!same) cache.list = out;
  return cache.list;
}

function sameInputs(a: readonly unknown[], b: readonly unknown[]): boolean {
  return a.length === b.length && a.every((value, i) => Object.is(value, b[i]));
}
