import { describe, expect, it } from "vitest";

import { ELK_LIMIT, layeredLayout, layoutGraph, NODE_HEIGHT, NODE_WIDTH } from "./layout";

const node = (id: string) => ({ id, width: NODE_WIDTH, height: NODE_HEIGHT });

describe("layeredLayout", () => {
  it("puts each node one column right of its furthest dependency", () => {
    const nodes = ["a", "b", "c", "d"].map(node);
    const edges = [
      { source: "a", target: "b" },
      { source: "b", target: "d" },
      { source: "a", target: "c" },
      { source: "c", target: "d" },
      { source: "a", target: "d" },
    ];
    const at = layeredLayout(nodes, edges);
    const column = (id: string) => Math.round(at[id].x / (NODE_WIDTH + 70));
    expect([column("a"), column("b"), column("c"), column("d")]).toEqual([0, 1, 1, 2]);
    expect(at.b.y).not.toEqual(at.c.y); // same column, different rows
  });

  it("never overlaps two nodes and ignores edges to unknown nodes", () => {
    const nodes = Array.from({ length: 50 }, (_, i) => node(`t${i}`));
    const edges = nodes.slice(1).map((n, i) => ({ source: `t${Math.floor(i / 3)}`, target: n.id }));
    edges.push({ source: "ghost", target: "t3" });
    const at = layeredLayout(nodes, edges);
    const spots = new Set(Object.values(at).map((p) => `${p.x},${p.y}`));
    expect(spots.size).toBe(50);
  });

  it("is what layoutGraph uses above the ELK limit, where ELK would take seconds", async () => {
    const count = ELK_LIMIT + 200;
    const nodes = Array.from({ length: count }, (_, i) => node(`big${i}`));
    const edges = nodes.slice(1).map((n, i) => ({ source: `big${i}`, target: n.id }));
    const at = await layoutGraph(nodes, edges);
    expect(Object.keys(at)).toHaveLength(count);
    expect(at).toEqual(layeredLayout(nodes, edges)); // ELK would add its padding of 12
  });
});
