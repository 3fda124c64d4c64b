// The log panel's worker choice: a distributed task offers "All workers" and each member; a
// choice follows that member's own log (worker=NAME), "All workers" the gang's again. A plain
// task has no choice to make.
import { act, render, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";

import { LogPanel } from "./LogPanel";
import { feedStream, json, runDetail, stubFetch, withQueries, type FeedStream } from "./testing";

afterEach(() => vi.unstubAllGlobals());

const RUN = "/api/v1/projects/p/runs/r1";
const LOG = `${RUN}/tasks/train/logs`;
const WORKERS = `${RUN}/tasks/train/workers`;

const member = (name: string, rank: number) => ({
  name,
  role: name.split("-")[0],
  rank,
  host: "localhost",
  ports: {},
  gpus: null,
  service: false,
  state: "running",
  exit_code: null,
});

function setup(distributed: boolean) {
  const streams: FeedStream[] = [];
  const detail = runDetail({ train: "running" });
  detail.tasks.train.attempts = 1;
  const gang = {
    attempt: 1,
    kind: "pytorch",
    on_failure: "fail_fast",
    max_restarts: 0,
    failure: null,
    workers: [member("master-0", 0), member("worker-0", 1)],
  };
  const fetched = stubFetch(
    (url) => {
      if (url.pathname !== LOG) return undefined;
      const stream = feedStream();
      streams.push(stream);
      return stream.response;
    },
    (url) => {
      if (url.pathname !== WORKERS) return undefined;
      return distributed ? json(gang) : json({ error: { message: "not distributed" } }, 404);
    },
    (url) => (url.pathname === RUN ? json(detail) : undefined),
  );
  render(<LogPanel runId="r1" task="train" />, { wrapper: withQueries().wrapper });
  const logCalls = () => fetched.calls.filter((u) => u.pathname === LOG);
  return { ...fetched, streams, logCalls };
}

const logEvent = (line: string) => `event: log\nid: 1\ndata: ${line}\n\n`;

describe("WorkerSelect in the log panel", () => {
  it("switches the followed log to one member and back to the whole gang", async () => {
    const { streams, logCalls } = setup(true);
    const select = await screen.findByRole("combobox", { name: "worker" });
    const options = Array.from((select as HTMLSelectElement).options).map((o) => o.text);
    expect(options).toEqual(["All workers", "master-0", "worker-0"]);
    await waitFor(() => expect(logCalls()).toHaveLength(1));
    expect(logCalls()[0].searchParams.has("worker")).toBe(false);

    await userEvent.selectOptions(select, "worker-0");
    await waitFor(() => expect(logCalls()).toHaveLength(2));
    const chosen = logCalls()[1];
    expect(chosen.searchParams.get("worker")).toBe("worker-0");
    expect(chosen.searchParams.get("follow")).toBe("true");
    act(() => streams[1].send(logEvent('{"CUBE_WORKER": "worker-0"}')));
    await waitFor(() => expect(screen.getByTestId("log-lines")).toHaveTextContent("CUBE_WORKER"));

    await userEvent.selectOptions(select, "All workers");
    await waitFor(() => expect(logCalls()).toHaveLength(3));
    expect(logCalls()[2].searchParams.has("worker")).toBe(false);
  });

  it("offers no choice for a task that is not distributed", async () => {
    const { calls } = setup(false);
    await waitFor(() => expect(calls.some((u) => u.pathname === WORKERS)).toBe(true));
    await waitFor(() => expect(screen.getByTestId("log-state")).toBeInTheDocument());
    expect(screen.queryByRole("combobox", { name: "worker" })).toBeNull();
  });
});
