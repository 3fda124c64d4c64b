// RunsPage: a running run with a task waiting for admission says why under its status (the
// whole reason in the tooltip); an ended run does not.
import { screen, within } from "@testing-library/react";

import { client } from "../api/http";
import { useSession } from "../auth/session";
import type { RunRow } from "../client/types.gen";
import { feedStream, json, stubFetch } from "../run/testing";
import { renderPage } from "./pipelines/testing";
import { RunsPage } from "./RunsPage";

afterEach(() => vi.unstubAllGlobals());

const REASON = "queued: needs 4 gpu, queue team-a has 0 of 4 free";

function row(id: string, status: string, waiting: string | null): RunRow {
  return {
    id,
    status,
    waiting,
    pipeline: "train",
    pipeline_version: 1,
    trigger: "manual",
    created_at: "2026-01-01T00:00:00Z",
    started_at: "2026-01-01T00:00:00Z",
    finished_at: status === "running" ? null : "2026-01-01T00:01:00Z",
    message: null,
  } as RunRow;
}

describe("RunsPage", () => {
  it("shows why a running run waits, under its status", async () => {
    useSession.setState({ token: "t", project: "p" });
    client.setConfig({ baseUrl: "http://localhost" });
    const page = {
      items: [row("r-wait", "running", REASON), row("r-done", "succeeded", REASON)],
      next_cursor: null,
    };
    stubFetch(
      (url) => (url.pathname === "/api/v1/projects/p/runs" ? json(page) : undefined),
      (url) => (url.pathname === "/api/v1/events" ? feedStream().response : undefined),
    );
    renderPage("/runs", RunsPage);
    const waiting = await screen.findByTestId("run-waiting");
    expect(waiting).toHaveTextContent(REASON);
    expect(waiting).toHaveAttribute("title", REASON);
    expect(within(screen.getByTestId("run-row-r-wait")).getByTestId("run-waiting")).toBe(waiting);
    expect(within(screen.getByTestId("run-row-r-done")).queryByTestId("run-waiting")).toBeNull();
  });
});
