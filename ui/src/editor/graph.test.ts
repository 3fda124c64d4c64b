import { describe, expect, it } from "vitest";

import {
  checkConnection,
  findPath,
  fromFlow,
  noteId,
  removeElements,
  renameTask,
  toEdges,
  toNodes,
  uniqueName,
} from "./graph";
import type { LayoutJson, PipelineJson } from "./types";

function pipeline(edges: Record<string, string[]>): PipelineJson {
  return {
    name: "p",
    tasks: Object.entries(edges).map(([name, depends]) => ({
      name,
      command: "true",
      ...(depends.length ? { depends } : {}),
    })),
  };
}

const chain = pipeline({ prepare: [], train: ["prepare"], evaluate: ["train"] });
const diamond = pipeline({ a: [], b: ["a"], c: ["a"], d: ["b", "c"] });
const apart = pipeline({ x: [], y: [], z: ["y"] });

describe("checkConnection", () => {
  it("accepts a new edge that closes no cycle", () => {
    expect(checkConnection(chain, "prepare", "evaluate")).toEqual({ ok: true });
    expect(checkConnection(diamond, "b", "c")).toEqual({ ok: true });
    expect(checkConnection(apart, "x", "z")).toEqual({ ok: true });
    expect(checkConnection(apart, "z", "x")).toEqual({ ok: true });
  });

  it("refuses an edge closing a cycle and names the cycle", () => {
    const back = checkConnection(chain, "train", "prepare");
    expect(back).toEqual({
      ok: false,
      reason: "refused: train → prepare would close a cycle prepare → train → prepare",
    });
    const long = checkConnection(chain, "evaluate", "prepare");
    expect(long.ok).toBe(false);
    if (!long.ok) expect(long.reason).toContain("prepare → train → evaluate → prepare");
    const diamondBack = checkConnection(diamond, "d", "a");
    expect(diamondBack.ok).toBe(false);
    if (!diamondBack.ok) expect(diamondBack.reason).toMatch(/a → [bc] → d → a$/);
    expect(checkConnection(apart, "z", "y").ok).toBe(false);
  });

  it("refuses an edge that exists already", () => {
    expect(checkConnection(chain, "prepare", "train")).toEqual({
      ok: false,
      reason: "refused: prepare → train is already connected",
    });
    expect(checkConnection(diamond, "c", "d").ok).toBe(false);
    expect(checkConnection(apart, "y", "z").ok).toBe(false);
  });

  it("refuses a self edge, unknown tasks and notes", () => {
    expect(checkConnection(chain, "train", "train")).toEqual({
      ok: false,
      reason: "refused: train cannot depend on itself",
    });
    expect(checkConnection(chain, "train", "nope").ok).toBe(false);
    expect(checkConnection(chain, noteId("n1"), "train").ok).toBe(false);
    expect(checkConnection(chain, null, "train").ok).toBe(false);
  });

  it("finds the path a dependency chain takes", () => {
    expect(findPath(diamond, "a", "d")).toHaveLength(3);
    expect(findPath(diamond, "d", "a")).toBeNull();
    expect(findPath(apart, "x", "z")).toBeNull();
  });
});

describe("spec <-> flow", () => {
  const layout: LayoutJson = {
    positions: { a: { x: 0, y: 0 }, b: { x: 300, y: -40 }, c: { x: 300, y: 80 }, d: { x: 600, y: 0 } },
    notes: [{ id: "n1", text: "hello", position: { x: 10, y: 200 } }],
  };

  it("makes one edge per dependency and one node per task and note", () => {
    const edges = toEdges(diamond);
    expect(edges.map((e) => e.id).sort()).toEqual(["a->b", "a->c", "b->d", "c->d"]);
    const nodes = toNodes(diamond, layout, { status: { a: "running" } });
    expect(nodes.map((n) => n.id)).toEqual(["a", "b", "c", "d", "note:n1"]);
    expect(nodes[1].position).toEqual({ x: 300, y: -40 });
    expect(nodes[0].type).toBe("task");
    expect(nodes[0].data).toMatchObject({ status: "running", errorCount: 0 });
    expect(nodes[4].type).toBe("note");
  });

  it("drops duplicate and dangling depends when drawing", () => {
    const odd = pipeline({ a: [], b: ["a", "a", "ghost"] });
    expect(toEdges(odd).map((e) => e.id)).toEqual(["a->b"]);
  });

  it("comes back to the same pipeline and layout", () => {
    const nodes = toNodes(diamond, layout);
    const back = fromFlow(diamond, nodes, toEdges(diamond));
    expect(back.pipeline).toEqual(diamond);
    expect(back.layout).toEqual(layout);
  });

  it("reads depends from changed edges and positions from moved nodes", () => {
    const nodes = toNodes(chain, { positions: {}, notes: [] }).map((n) =>
      n.id === "train" ? { ...n, position: { x: 5, y: 7 } } : n,
    );
    const edges = [...toEdges(chain).filter((e) => e.id !== "train->evaluate"), { id: "p", source: "prepare", target: "evaluate" }];
    const back = fromFlow(chain, nodes, edges);
    expect(back.pipeline.tasks.find((t) => t.name === "evaluate")?.depends).toEqual(["prepare"]);
    expect(back.layout.positions.train).toEqual({ x: 5, y: 7 });
  });
});

describe("edits", () => {
  const layout: LayoutJson = { positions: { prepare: { x: 1, y: 2 } }, notes: [] };

  it("renames a task with its depends and position", () => {
    const next = renameTask(chain, layout, "prepare", "load");
    expect(next.pipeline.tasks.map((t) => t.name)).toEqual(["load", "train", "evaluate"]);
    expect(next.pipeline.tasks[1].depends).toEqual(["load"]);
    expect(next.layout.positions).toEqual({ load: { x: 1, y: 2 } });
  });

  it("removes tasks with their edges, and edges alone", () => {
    const gone = removeElements(chain, layout, ["train"]);
    expect(gone.pipeline.tasks.map((t) => t.name)).toEqual(["prepare", "evaluate"]);
    expect(gone.pipeline.tasks[1].depends).toBeUndefined();
    const cut = removeElements(diamond, { positions: {}, notes: [] }, [], ["b->d"]);
    expect(cut.pipeline.tasks[3].depends).toEqual(["c"]);
  });

  it("makes names unique", () => {
    expect(uniqueName("train", ["prepare"])).toBe("train");
    expect(uniqueName("train", ["train"])).toBe("train-2");
    expect(uniqueName("train-2", ["train", "train-2"])).toBe("train-3");
    expect(uniqueName("9 bad name!", [])).toBe("bad-name-");
  });
});
