// edgesPath: the edges drawn at far zoom as one SVG path, from a task's right side to the
// next one's left side, the way xyflow draws its own bezier edges.
import { getBezierPath, Position } from "@xyflow/react";

import { edgesPath, type FarNode } from "./FarEdges";

const nodes: Record<string, FarNode> = {
  a: { id: "a", position: { x: 0, y: 0 } },
  b: { id: "b", position: { x: 400, y: 100 }, measured: { width: 200, height: 80 } },
};

describe("edgesPath", () => {
  it("draws each edge between known nodes as xyflow's bezier, and skips the others", () => {
    const d = edgesPath(
      [
        { id: "a->b", source: "a", target: "b" },
        { id: "a->gone", source: "a", target: "gone" },
      ],
      (id) => nodes[id],
    );
    const [expected] = getBezierPath({
      sourceX: 220, // NODE_WIDTH: not measured yet
      sourceY: 32,
      sourcePosition: Position.Right,
      targetX: 400,
      targetY: 140, // the measured height's middle
      targetPosition: Position.Left,
    });
    expect(d).toBe(expected);
  });

  it("is empty without edges", () => {
    expect(edgesPath([], (id) => nodes[id])).toBe("");
  });
});
