// WorkersPanel: a distributed task's members with their states, exit codes, GPUs and ports,
// the first failure and the on_failure policy; nothing at all for a task that is not
// distributed (the route's 404); the gang read again when the task's status changes.
import { act, render, screen, waitFor, within } from "@testing-library/react";

import type { Workers } from "../api/workers";
import { json, runDetail, stubFetch, withQueries } from "./testing";
import { policyText, WorkersPanel } from "./WorkersPanel";

afterEach(() => vi.unstubAllGlobals());

const RUN = "/api/v1/projects/p/runs/r1";
const WORKERS = `${RUN}/tasks/train/workers`;

function member(name: string, rank: number, state: string, over: object = {}) {
  return {
    name,
    role: name.split("-")[0],
    rank,
    host: "node-a",
    ports: {},
    gpus: null,
    service: false,
    state,
    exit_code: null,
    usage: null,
    ...over,
  };
}

const GANG: Workers = {
  attempt: 1,
  kind: "pytorch",
  on_failure: "fail_fast",
  max_restarts: 0,
  failure: "worker-1 (rank 2) failed first: exit code 3",
  workers: [
    member("master-0", 0, "stopped", { ports: { master: 29500 }, gpus: "0,1", exit_code: -15 }),
    member("worker-0", 1, "running", {
      gpus: "2",
      usage: {
        ...{ at: 1, cpu: 50, rss: 64 * 2 ** 20, gpu_util: null, gpu_mem: null, samples: 3 },
        ...{ cpu_max: 98, rss_max: 128 * 2 ** 20, gpu_mem_max: null },
      },
      series: {
        ...{ at: [1, 2, 3], cpu: [10, 60, 50], rss: [2 ** 20, 2 ** 26, 2 ** 26] },
        ...{ gpu_util: [null, null, null], gpu_mem: [null, null, null] },
      },
    }),
    member("worker-1", 2, "failed", { exit_code: 3 }),
    member("worker-2", 3, "not_started"),
  ],
};

function serve(workers: () => Response, status = "running") {
  const detail = runDetail({ train: status });
  detail.tasks.train.attempts = 1;
  return stubFetch(
    (url) => (url.pathname === WORKERS ? workers() : undefined),
    (url) => (url.pathname === RUN ? json(detail) : undefined),
  );
}

describe("WorkersPanel", () => {
  it("lists each member with its state, exit code, GPUs and ports", async () => {
    serve(() => json(GANG));
    render(<WorkersPanel runId="r1" task="train" />, { wrapper: withQueries().wrapper });
    const master = await screen.findByTestId("worker-master-0");
    const cells = within(master).getAllByRole("cell").map((c) => c.textContent);
    expect(cells).toEqual([
      ...["master-0", "master", "0", "stopped", "-15", "—", "—", "0,1", "master:29500"],
    ]);
    const worker = within(await screen.findByTestId("worker-worker-0"));
    expect(worker.getByTestId("worker-memory").textContent).toBe("64 MiB"); // running: now
    expect(worker.getByTestId("worker-memory").title).toBe("peak 128 MiB");
    expect(worker.getByLabelText("worker-0 memory over time")).toBeTruthy();
    const states = ["master-0", "worker-0", "worker-1", "worker-2"].map((name) =>
      within(screen.getByTestId(`worker-${name}`)).getByText(/./, { selector: ".status" }),
    );
    expect(states.map((s) => s.dataset.status)).toEqual([
      "stopped",
      "running",
      "failed",
      "not_started",
    ]);
    expect(states[3]).toHaveTextContent("not started");
    expect(within(screen.getByTestId("worker-worker-1")).getAllByRole("cell")[4]).toHaveTextContent(
      "3",
    );
    expect(screen.getByTestId("workers-failure")).toHaveTextContent("worker-1 (rank 2) failed first");
    expect(screen.getByTestId("workers-policy")).toHaveTextContent("fail_fast");
    expect(screen.getByRole("heading", { name: /Workers/ })).toHaveTextContent("pytorch · attempt 1");
  });

  it("shows nothing, and no error, for a task that is not distributed", async () => {
    const { calls } = serve(() =>
      json({ error: { message: "task 'train' is not a distributed task" } }, 404),
    );
    const { container } = render(<WorkersPanel runId="r1" task="train" />, {
      wrapper: withQueries().wrapper,
    });
    await waitFor(() => expect(calls.some((u) => u.pathname === WORKERS)).toBe(true));
    await waitFor(() => expect(container).toBeEmptyDOMElement());
  });

  it("reads the gang again when the task's status changes", async () => {
    let answers = 0;
    const { calls } = serve(() => {
      answers += 1;
      const state = answers === 1 ? "running" : "succeeded";
      return json({ ...GANG, failure: null, workers: [member("master-0", 0, state)] });
    });
    const { queries, wrapper } = withQueries();
    render(<WorkersPanel runId="r1" task="train" />, { wrapper });
    const row = await screen.findByTestId("worker-master-0");
    expect(within(row).getByText("running")).toBeInTheDocument();
    expect(screen.queryByTestId("workers-failure")).toBeNull();
    const done = runDetail({ train: "succeeded" }, "succeeded");
    done.tasks.train.attempts = 1;
    act(() => queries.setQueryData(["run", "p", "r1"], done));
    await waitFor(() =>
      expect(within(screen.getByTestId("worker-master-0")).getByText("succeeded")).toBeVisible(),
    );
    expect(calls.filter((u) => u.pathname === WORKERS)).toHaveLength(2);
  });
});

describe("policyText", () => {
  it("says what happens when a member fails", () => {
    expect(policyText({ on_failure: "restart_group", max_restarts: 3 })).toBe(
      "When a member fails: start the whole gang again, up to 3 times (restart_group).",
    );
    expect(policyText({ on_failure: "restart_group", max_restarts: 1 })).toContain("once");
    expect(policyText({ on_failure: "fail_fast", max_restarts: 0 })).toContain(
      "stop the others and fail the attempt",
    );
  });
});
