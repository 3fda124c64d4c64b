import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import { beforeEach, describe, expect, it, vi } from "vitest";

import * as sdk from "../../client/sdk.gen";
import type { PipelineRow } from "../../api/pipelineList";
import { useSession } from "../../auth/session";
import { PipelinesPage } from "../PipelinesPage";
import { answer, renderPage } from "./testing";

vi.mock("../../client/sdk.gen", async (original) => ({
  ...(await original<typeof import("../../client/sdk.gen")>()),
  pipelinesListPipelines: vi.fn(),
  pipelinesEnableSchedule: vi.fn(),
  pipelinesDisableSchedule: vi.fn(),
  pipelinesGetPipeline: vi.fn(),
  pipelinesCreatePipeline: vi.fn(),
  pipelinesTrigger: vi.fn(),
  authMe: vi.fn(),
}));

const mocked = vi.mocked(sdk);

function pipeline(over: Partial<PipelineRow>): PipelineRow {
  return {
    id: 1,
    name: "hello",
    description: "says hello",
    latest_version: 3,
    creator: "admin",
    created_at: "2026-01-01T00:00:00Z",
    updated_at: "2026-01-01T00:00:00Z",
    last_run: null,
    schedule: null,
    ...over,
  };
}

const ROWS = [
  pipeline({
    last_run: { id: "r-42", status: "succeeded", created_at: new Date().toISOString() },
  }),
  pipeline({
    id: 2,
    name: "nightly",
    description: "",
    latest_version: 1,
    schedule: { cron: "0 2 * * *", timezone: "Asia/Shanghai", enabled: false },
  }),
];

function me(role: string) {
  useSession.setState({ token: "a-token", project: "default" });
  mocked.authMe.mockImplementation(
    () => answer({ id: 1, name: "u", is_admin: false, projects: [{ name: "default", role }] }) as never,
  );
}

describe("PipelinesPage", () => {
  beforeEach(() => {
    vi.clearAllMocks();
    me("admin");
  });

  it("greys out what a viewer may not do", async () => {
    me("viewer");
    mocked.pipelinesListPipelines.mockImplementation(() => answer(ROWS) as never);
    renderPage("/pipelines", PipelinesPage);
    await screen.findByTestId("pipeline-row-hello");
    await waitFor(() => expect(screen.getByRole("button", { name: "Run hello" })).toBeDisabled());
    expect(screen.getByRole("button", { name: "Copy hello" })).toBeDisabled();
    expect(screen.getByRole("button", { name: "Delete hello" })).toBeDisabled();
    expect(screen.getByRole("switch", { name: "Schedule of nightly" })).toBeDisabled();
  });

  it("shows one row per pipeline with its last run, version and schedule", async () => {
    mocked.pipelinesListPipelines.mockImplementation(() => answer(ROWS) as never);
    renderPage("/pipelines", PipelinesPage);
    const hello = await screen.findByTestId("pipeline-row-hello");
    expect(within(hello).getByRole("link", { name: "hello" })).toHaveAttribute("href", "/pipelines/hello");
    expect(within(hello).getByText("v3")).toBeInTheDocument();
    const status = within(hello).getByText("succeeded");
    expect(status.closest("a")).toHaveAttribute("href", "/runs/r-42");
    const nightly = screen.getByTestId("pipeline-row-nightly");
    expect(within(nightly).getByText("never run")).toBeInTheDocument();
    expect(within(nightly).getByText("At 02:00")).toBeInTheDocument();
    expect(within(nightly).getByRole("switch", { name: "Schedule of nightly" })).toHaveAttribute(
      "aria-checked",
      "false",
    );
    expect(screen.queryByTestId("pipelines-empty")).toBeNull();
  });

  it("shows the empty state with ways to make a pipeline when there is none", async () => {
    mocked.pipelinesListPipelines.mockImplementation(() => answer([]) as never);
    renderPage("/pipelines", PipelinesPage);
    const empty = await screen.findByTestId("pipelines-empty");
    expect(within(empty).getByText("No pipelines yet")).toBeInTheDocument();
    expect(within(empty).getByRole("link", { name: "New pipeline" })).toHaveAttribute(
      "href",
      "/pipelines/new",
    );
    expect(within(empty).getByRole("button", { name: "Import…" })).toBeInTheDocument();
    expect(screen.queryByTestId("pipelines-table")).toBeNull();
  });

  it("switches a schedule on through the enable route", async () => {
    mocked.pipelinesListPipelines.mockImplementation(() => answer(ROWS) as never);
    mocked.pipelinesEnableSchedule.mockImplementation(() => answer({ enabled: true }) as never);
    renderPage("/pipelines", PipelinesPage);
    fireEvent.click(await screen.findByRole("switch", { name: "Schedule of nightly" }));
    await waitFor(() => expect(mocked.pipelinesEnableSchedule).toHaveBeenCalledTimes(1));
    expect(mocked.pipelinesEnableSchedule.mock.calls[0][0].path).toEqual({
      project: "default",
      name: "nightly",
    });
    expect(mocked.pipelinesDisableSchedule).not.toHaveBeenCalled();
  });

  it("copies a pipeline: its latest version created under the new name", async () => {
    mocked.pipelinesListPipelines.mockImplementation(() => answer(ROWS) as never);
    mocked.pipelinesGetPipeline.mockImplementation(
      () => answer({ name: "hello", spec: { name: "hello", tasks: [] }, layout: { x: 1 } }) as never,
    );
    mocked.pipelinesCreatePipeline.mockImplementation(() => answer({ name: "hello-2" }, 201) as never);
    const { router } = renderPage("/pipelines", PipelinesPage);
    fireEvent.click(await screen.findByRole("button", { name: "Copy hello" }));
    const name = screen.getByTestId("copy-name");
    fireEvent.change(name, { target: { value: "Bad Name" } });
    expect(screen.getByRole("alert")).toHaveTextContent("lowercase letters");
    fireEvent.change(name, { target: { value: "hello-2" } });
    fireEvent.click(screen.getByRole("button", { name: "Copy" }));
    await waitFor(() => expect(router.state.location.pathname).toBe("/pipelines/hello-2"));
    const body = mocked.pipelinesCreatePipeline.mock.calls[0][0].body;
    expect(body.spec).toEqual({ name: "hello-2", tasks: [] });
    expect(body.layout).toEqual({ x: 1 });
  });

  it("sends the search to the server", async () => {
    mocked.pipelinesListPipelines.mockImplementation(() => answer([]) as never);
    renderPage("/pipelines", PipelinesPage);
    await screen.findByTestId("pipelines-empty");
    fireEvent.change(screen.getByTestId("pipeline-search"), { target: { value: "nig" } });
    await screen.findByTestId("pipelines-no-match");
    const last = mocked.pipelinesListPipelines.mock.calls.at(-1)![0];
    expect(last.query).toEqual({ q: "nig" });
  });
});
