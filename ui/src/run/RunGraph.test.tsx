// RunGraph: nodes carry their task's live status; a change of status alone never lays the
// graph out again (ELK is called once per shape), a new task does.
import { render, screen, waitFor } from "@testing-library/react";

import type { RunDetail } from "../api/runs";
import type { PipelineJson } from "../editor/types";
import { RunGraph, runEdges } from "./RunGraph";
import { runDetail } from "./testing";

const elkLayout = vi.hoisted(() =>
  vi.fn(async (graph: { children: { id: string }[] }) => ({
    ...graph,
    children: graph.children.map((child, i) => ({ ...child, x: i * 300, y: 40 })),
  })),
);
vi.mock("elkjs/lib/elk.bundled.js", () => ({
  default: class {
    layout = elkLayout;
  },
}));

// What xyflow needs from a browser that jsdom lacks.
class FakeResizeObserver {
  observe() {}
  unobserve() {}
  disconnect() {}
}
beforeAll(() => {
  vi.stubGlobal("ResizeObserver", FakeResizeObserver);
  vi.stubGlobal(
    "DOMMatrixReadOnly",
    class {
      m22 = 1;
      constructor(_t?: string) {}
    },
  );
});
afterAll(() => vi.unstubAllGlobals());

// Unique names per test: layoutGraph caches by shape across tests.
const spec = (names: string[]): PipelineJson => ({
  name: "g",
  tasks: names.map((name, i) => ({ name, depends: i ? [names[0]] : [] })),
});
const detail = (tasks: Record<string, string>) => runDetail(tasks) as unknown as RunDetail;
const status = (name: string) => screen.getByTestId(`run-node-${name}`).getAttribute("data-status");

describe("RunGraph", () => {
  it("keeps the layout when only statuses change", async () => {
    const names = ["keep-a", "keep-b", "keep-c"];
    const pipeline = spec(names);
    const calls = elkLayout.mock.calls.length;
    const first = detail({ "keep-a": "running", "keep-b": "pending", "keep-c": "pending" });
    const { rerender } = render(<RunGraph run={first} spec={pipeline} />);
    await waitFor(() => expect(status("keep-a")).toBe("running"));
    expect(elkLayout.mock.calls.length).toBe(calls + 1);
    const place = () =>
      screen.getByTestId("run-node-keep-b").closest(".react-flow__node")!.getAttribute("style");
    const where = place();
    expect(where).toContain("translate(300px");

    for (const next of ["running", "succeeded"]) {
      const run = detail({ "keep-a": "succeeded", "keep-b": next, "keep-c": next });
      rerender(<RunGraph run={run} spec={pipeline} />);
      await waitFor(() => expect(status("keep-b")).toBe(next));
    }
    expect(status("keep-c")).toBe("succeeded");
    expect(elkLayout.mock.calls.length).toBe(calls + 1);
    expect(place()).toBe(where);
  });

  it("lays the graph out again when a task is added", async () => {
    const calls = elkLayout.mock.calls.length;
    const one = detail({ "new-a": "running" });
    const { rerender } = render(<RunGraph run={one} spec={spec(["new-a"])} />);
    await waitFor(() => expect(status("new-a")).toBe("running"));
    const two = spec(["new-a", "new-b"]);
    rerender(<RunGraph run={detail({ "new-a": "succeeded", "new-b": "running" })} spec={two} />);
    await waitFor(() => expect(status("new-b")).toBe("running"));
    expect(elkLayout.mock.calls.length).toBe(calls + 2);
  });

  it("draws the dependencies among the run's tasks only", () => {
    const pipeline = spec(["a", "b", "c"]);
    expect(runEdges(["a", "b"], pipeline)).toEqual([{ source: "a", target: "b" }]);
    expect(runEdges(["a", "b"], undefined)).toEqual([]);
  });
});
