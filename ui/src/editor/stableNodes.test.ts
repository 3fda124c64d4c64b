// reuseNodes: a node keeps its object while nothing it shows changed, so xyflow (which compares
// nodes by identity) re-renders only the nodes that did change.
import { newNodeCache, reuseNodes, similar } from "./stableNodes";

interface N {
  id: string;
  position: { x: number; y: number };
  data: { status?: string; messages: string[] };
}

const build = (inputs: readonly unknown[]): N => {
  const [id, x, status, messages] = inputs as [string, number, string | undefined, string[]];
  return { id, position: { x, y: 0 }, data: { status, messages: [...messages] } };
};

describe("similar", () => {
  it("compares plain objects and arrays a few levels deep", () => {
    expect(similar({ a: { b: [1, "x"] } }, { a: { b: [1, "x"] } })).toBe(true);
    expect(similar({ a: { b: [1, "x"] } }, { a: { b: [1, "y"] } })).toBe(false);
    expect(similar({ a: 1 }, { a: 1, b: undefined })).toBe(false);
    expect(similar([1], { 0: 1 })).toBe(false);
    // below the depth, identity only
    expect(similar({ a: { b: { c: {} } } }, { a: { b: { c: {} } } }, 3)).toBe(false);
  });
});

describe("reuseNodes", () => {
  it("keeps unchanged nodes' objects and hands out new ones for changed nodes", () => {
    const cache = newNodeCache<N>();
    const items = (statusOfB: string, xOfC: number) => [
      { id: "a", inputs: ["a", 0, undefined, []] },
      { id: "b", inputs: ["b", 100, statusOfB, ["too long"]] },
      { id: "c", inputs: ["c", xOfC, undefined, []] },
    ];
    const first = reuseNodes(cache, items("running", 200), build);
    const same = reuseNodes(cache, items("running", 200), build); // equal, not identical inputs
    same.forEach((node, i) => expect(node).toBe(first[i]));

    const moved = reuseNodes(cache, items("running", 216), build);
    expect(moved[0]).toBe(first[0]);
    expect(moved[1]).toBe(first[1]);
    expect(moved[2]).not.toBe(first[2]);
    expect(moved[2].position.x).toBe(216);

    const done = reuseNodes(cache, items("succeeded", 216), build);
    expect(done[1]).not.toBe(first[1]);
    expect(done[1].data.status).toBe("succeeded");
    expect(done[2]).toBe(moved[2]);
  });

  it("does not build a node whose inputs are the very same objects, and forgets gone ids", () => {
    const cache = newNodeCache<N>();
    const messages = ["x"];
    const spy = vi.fn(build);
    reuseNodes(cache, [{ id: "a", inputs: ["a", 0, "ok", messages] }], spy);
    reuseNodes(cache, [{ id: "a", inputs: ["a", 0, "ok", messages] }], spy);
    expect(spy).toHaveBeenCalledTimes(1);
    reuseNodes(cache, [], spy);
    expect(cache.entries.size).toBe(0);
  });
});

describe("reuseNodes' array", () => {
  it("is the previous array when every node is the previous one", () => {
    const cache = newNodeCache<N>();
    const items = (x: number) => [
      { id: "a", inputs: ["a", 0, undefined, []] },
      { id: "b", inputs: ["b", x, undefined, []] },
    ];
    const first = reuseNodes(cache, items(0), build);
    expect(reuseNodes(cache, items(0), build)).toBe(first);
    const moved = reuseNodes(cache, items(16), build);
    expect(moved).not.toBe(first);
    expect(moved[0]).toBe(first[0]);
  });
});
