import { render, screen, within } from "@testing-library/react";
import { beforeEach, describe, expect, it, vi } from "vitest";

import type { AttemptMetrics } from "../api/metrics";
import * as sdk from "../client/sdk.gen";
import { answer } from "../pages/pipelines/testing";
import { ResourceCharts } from "./ResourceCharts";
import { runDetail, withQueries } from "./testing";

vi.mock("../client/sdk.gen", async (original) => ({
  ...(await original<typeof import("../client/sdk.gen")>()),
  monitoringRunMetrics: vi.fn(),
  runsGetRun: vi.fn(),
}));

const mocked = vi.mocked(sdk);
const MB = 1024 * 1024;

function attempt(over: Partial<AttemptMetrics> = {}): AttemptMetrics {
  const at = ["2026-01-01T00:00:00Z", "2026-01-01T00:00:01Z", "2026-01-01T00:00:04Z"];
  return {
    task: "train",
    attempt: 1,
    status: "succeeded",
    sampled_at: at[2],
    samples: 3,
    cpu_percent: 12,
    rss_bytes: 40 * MB,
    gpu_util_percent: null,
    gpu_mem_bytes: null,
    cpu_avg_percent: 40,
    peak: { cpu_percent: 98, rss_bytes: 150 * MB, gpu_util_percent: null, gpu_mem_bytes: null },
    series: {
      at,
      cpu_percent: [98, 10, 12],
      rss_bytes: [10 * MB, 150 * MB, 40 * MB],
      gpu_util_percent: [null, null, null],
      gpu_mem_bytes: [null, null, null],
    },
    ...over,
  };
}

function serve(tasks: AttemptMetrics[], status = "succeeded") {
  mocked.runsGetRun.mockImplementation(() => answer(runDetail({ train: status }, status)) as never);
  mocked.monitoringRunMetrics.mockImplementation(
    () =>
      answer({ run_id: "r1", pipeline: "p", status, at: "2026-01-01T00:00:05Z", tasks }) as never,
  );
}

function show(task = "train", attemptNo = 1) {
  const { wrapper } = withQueries();
  return render(<ResourceCharts runId="r1" task={task} attempt={attemptNo} />, { wrapper });
}

describe("ResourceCharts", () => {
  beforeEach(() => vi.clearAllMocks());

  it("charts CPU and memory with the peak and the last value, and no GPU without GPU data", async () => {
    serve([attempt()]);
    show();
    const memory = await screen.findByTestId("chart-memory");
    expect(within(memory).getByTestId("peak-memory")).toHaveTextContent("peak 150 MiB");
    expect(within(memory).getByTestId("current-memory")).toHaveTextContent("last 40 MiB");
    expect(within(memory).getByText("4.0 s")).toBeInTheDocument();
    expect(within(memory).getByTestId("sparkline-line").getAttribute("d")).toMatch(/^M0,/);
    expect(screen.getByTestId("peak-cpu")).toHaveTextContent("peak 98 %");
    expect(screen.getByText("· attempt 1 · 3 samples", { exact: false })).toBeInTheDocument();
    expect(screen.queryByTestId("chart-gpu-util")).toBeNull();
    expect(screen.queryByTestId("chart-gpu-memory")).toBeNull();
  });

  it("adds the GPU charts when the attempt saw a GPU", async () => {
    serve([
      attempt({
        gpu_util_percent: 70,
        gpu_mem_bytes: 2048 * MB,
        peak: { cpu_percent: 98, rss_bytes: 150 * MB, gpu_util_percent: 90, gpu_mem_bytes: 4096 * MB },
        series: {
          ...attempt().series,
          gpu_util_percent: [10, 90, 70],
          gpu_mem_bytes: [0, 4096 * MB, 2048 * MB],
        },
      }),
    ]);
    show();
    expect(await screen.findByTestId("peak-gpu-util")).toHaveTextContent("peak 90 %");
    expect(screen.getByTestId("peak-gpu-memory")).toHaveTextContent("peak 4.0 GiB");
  });

  it("shows the task's own latest attempt, and an empty state for a task never sampled", async () => {
    serve([attempt(), attempt({ attempt: 2, peak: { ...attempt().peak, rss_bytes: 300 * MB } })]);
    const view = show("train", 2);
    expect(await screen.findByTestId("peak-memory")).toHaveTextContent("peak 300 MiB");
    view.unmount();
    show("other", 1);
    await vi.waitFor(() =>
      expect(screen.getByTestId("resources-empty")).toHaveTextContent("No samples yet"),
    );
  });

  it("polls while the run is active", async () => {
    serve([attempt({ status: "running" })], "running");
    show();
    expect(await screen.findByTestId("current-cpu")).toHaveTextContent("now 12 %");
    await vi.waitFor(() => expect(mocked.monitoringRunMetrics.mock.calls.length).toBeGreaterThan(1), {
      timeout: 3000,
    });
  });
});
