// LogPanel: a followed log appends its lines as they come, keeps at most the cap in memory,
// shows the attempt's end; the search goes to the server and its matches are highlighted.
import { act, render, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";

import { LogPanel } from "./LogPanel";
import { feedStream, json, runDetail, stubFetch, withQueries, type FeedStream } from "./testing";
import { LineBuffer, MAX_LINES } from "./useLogLines";

afterEach(() => vi.unstubAllGlobals());

const LOG = "/api/v1/projects/p/runs/r1/tasks/train/logs";

function setup(streams: FeedStream[]) {
  let opened = 0;
  const fetched = stubFetch(
    (url) => (url.pathname === LOG ? streams[opened++]?.response : undefined),
    (url) =>
      url.pathname === "/api/v1/projects/p/runs/r1"
        ? json(runDetail({ train: "running" }))
        : undefined,
  );
  return { ...fetched, wrapper: withQueries().wrapper };
}

const logEvent = (lines: string[], offset: number) =>
  `event: log\nid: ${offset}\n${lines.map((l) => `data: ${l}`).join("\n")}\n\n`;
const shown = () => screen.getAllByText(/./, { selector: ".log-text" }).map((e) => e.textContent);

describe("LineBuffer", () => {
  it("keeps the last lines and counts the dropped ones", () => {
    const buffer = new LineBuffer(3);
    buffer.append("a\nb");
    buffer.append("c\nd");
    expect(buffer.lines).toEqual(["b", "c", "d"]);
    buffer.append("e\nf\ng\nh");
    expect(buffer.lines).toEqual(["f", "g", "h"]);
    expect(buffer.dropped).toBe(5);
    expect(MAX_LINES).toBe(5000);
  });
});

describe("LogPanel", () => {
  it("follows the log: appends lines as they come, then shows the end", async () => {
    const stream = feedStream();
    const { calls, wrapper } = setup([stream]);
    render(<LogPanel runId="r1" task="train" />, { wrapper });
    await waitFor(() => expect(calls.some((u) => u.pathname === LOG)).toBe(true));
    const url = calls.find((u) => u.pathname === LOG)!;
    expect(url.searchParams.get("follow")).toBe("true");
    expect(url.searchParams.get("tail")).toBe(String(MAX_LINES));

    act(() => stream.send(logEvent(["epoch 1", "epoch 2"], 16)));
    await waitFor(() => expect(shown()).toEqual(["epoch 1", "epoch 2"]));
    act(() => stream.send(": ping\n\n" + logEvent(["epoch 3"], 24)));
    await waitFor(() => expect(shown()).toEqual(["epoch 1", "epoch 2", "epoch 3"]));
    expect(screen.getByTestId("log-state")).toHaveAttribute("data-state", "live");

    const end = { attempt: 1, status: "succeeded", exit_code: 0, attempts: 1 };
    act(() => stream.send(`event: end\nid: 24\ndata: ${JSON.stringify(end)}\n\n`));
    await waitFor(() =>
      expect(screen.getByTestId("log-state")).toHaveAttribute("data-state", "ended"),
    );
    expect(screen.getByTestId("log-state")).toHaveTextContent("attempt 1 succeeded (exit code 0)");
  });

  it("keeps no more than its cap of lines, and says so", async () => {
    const stream = feedStream();
    const { wrapper } = setup([stream]);
    render(<LogPanel runId="r1" task="train" maxLines={100} />, { wrapper });
    const lines = Array.from({ length: 250 }, (_, i) => `line ${i + 1}`);
    await waitFor(() => expect(screen.getByTestId("log-state")).toBeInTheDocument());
    act(() => {
      for (let at = 0; at < 250; at += 50) stream.send(logEvent(lines.slice(at, at + 50), at));
    });
    await waitFor(() => expect(shown().at(-1)).toBe("line 250"));
    expect(shown()).toHaveLength(100);
    expect(shown()[0]).toBe("line 151");
    expect(screen.getByTestId("log-capped")).toHaveTextContent("150 earlier ones dropped");
  });

  it("searches on the server and highlights the matches", async () => {
    const first = feedStream();
    const second = feedStream();
    const { calls, wrapper } = setup([first, second]);
    render(<LogPanel runId="r1" task="train" />, { wrapper });
    await userEvent.type(screen.getByRole("searchbox", { name: "search the log" }), "loss{Enter}");
    await waitFor(() =>
      expect(calls.filter((u) => u.pathname === LOG).at(-1)?.searchParams.get("search")).toBe(
        "loss",
      ),
    );
    act(() => second.send(logEvent(["epoch 1 loss=0.9"], 10)));
    await waitFor(() => expect(screen.getByText("loss").tagName).toBe("MARK"));
  });
});
