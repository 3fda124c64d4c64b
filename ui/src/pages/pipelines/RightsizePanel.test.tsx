import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import { beforeEach, describe, expect, it, vi } from "vitest";

import type { PipelineRow } from "../../api/pipelineList";
import type { RightsizeOut } from "../../api/metrics";
import { useSession } from "../../auth/session";
import * as sdk from "../../client/sdk.gen";
import { PipelinesPage } from "../PipelinesPage";
import { answer, refusal, renderPage } from "./testing";

vi.mock("../../client/sdk.gen", async (original) => ({
  ...(await original<typeof import("../../client/sdk.gen")>()),
  pipelinesListPipelines: vi.fn(),
  monitoringRightsizePreview: vi.fn(),
  monitoringRightsizeApply: vi.fn(),
  authMe: vi.fn(),
}));

const mocked = vi.mocked(sdk);
const MI = 2 ** 20;

const ROW: PipelineRow = {
  id: 1,
  name: "train",
  description: "",
  latest_version: 3,
  creator: "admin",
  created_at: "2026-01-01T00:00:00Z",
  updated_at: "2026-01-01T00:00:00Z",
  last_run: null,
  schedule: null,
};

const PREVIEW: RightsizeOut = {
  pipeline: "train",
  version: 3,
  runs: 10,
  policy: "headroom",
  applied_version: null,
  tasks: [
    {
      task: "fit",
      runs: 2,
      current: { cpu: 4, memory: 8192 * MI },
      suggested: { cpu: 1.4, memory: 256 * MI },
      changed: true,
      evidence: [
        { run_id: "run-aaaaaaaa1", created_at: "2026-01-02T00:00:00Z", attempt: 1, cpu_max_percent: 98, rss_max_bytes: 150 * MI, gpu_mem_max_bytes: null },
        { run_id: "run-bbbbbbbb2", created_at: "2026-01-01T00:00:00Z", attempt: 1, cpu_max_percent: 60, rss_max_bytes: 120 * MI, gpu_mem_max_bytes: null },
      ],
    },
    {
      task: "report",
      runs: 0,
      current: { cpu: null, memory: null },
      suggested: { cpu: null, memory: null },
      changed: false,
      evidence: [],
    },
  ],
};

function me(role: string) {
  useSession.setState({ token: "a-token", project: "default" });
  mocked.authMe.mockImplementation(
    () => answer({ id: 1, name: "u", is_admin: false, projects: [{ name: "default", role }] }) as never,
  );
}

async function openPanel() {
  mocked.pipelinesListPipelines.mockImplementation(() => answer([ROW]) as never);
  mocked.monitoringRightsizePreview.mockImplementation(() => answer(PREVIEW) as never);
  renderPage("/pipelines", PipelinesPage);
  fireEvent.click(await screen.findByRole("button", { name: "Right-size train" }));
  return screen.findByRole("region", { name: "Right-size train" });
}

describe("RightsizePanel", () => {
  beforeEach(() => {
    vi.clearAllMocks();
    me("developer");
  });

  it("lists each task's requests, the suggestion and the peaks per run", async () => {
    const panel = await openPanel();
    const fit = await within(panel).findByTestId("rightsize-task-fit");
    expect(fit).toHaveTextContent("4 cores → 1.4 cores");
    expect(fit).toHaveTextContent("8.0 GiB → 256 MiB");
    expect(fit).toHaveTextContent("run-aaaaaaaa1 98 % · 150 MiB");
    expect(fit).toHaveTextContent("run-bbbbbbbb2 60 % · 120 MiB");
    expect(within(fit).getByRole("link", { name: "run-aaaaaaaa1" })).toHaveAttribute("href", "/runs/run-aaaaaaaa1");
    expect(within(panel).getByTestId("rightsize-task-report")).toHaveTextContent("no succeeded run yet");
    expect(mocked.monitoringRightsizePreview).toHaveBeenCalledWith(
      expect.objectContaining({ path: { project: "default", name: "train" } }),
    );
  });

  it("applies the suggestions and says which version was saved", async () => {
    mocked.monitoringRightsizeApply.mockImplementation(
      () => answer({ ...PREVIEW, applied_version: 4 }) as never,
    );
    const panel = await openPanel();
    fireEvent.click(await within(panel).findByRole("button", { name: "Apply" }));
    expect(await within(panel).findByRole("status")).toHaveTextContent("Saved as version 4.");
    expect(mocked.monitoringRightsizeApply).toHaveBeenCalledTimes(1);
    // the preview (under the pipeline's key) and the list are read again
    await waitFor(() => expect(mocked.monitoringRightsizePreview).toHaveBeenCalledTimes(2));
  });

  it("says when nothing changes, and shows a refusal inline", async () => {
    mocked.monitoringRightsizeApply
      .mockImplementationOnce(() => answer({ ...PREVIEW, applied_version: null }) as never)
      .mockImplementationOnce(
        () => refusal(409, "pipeline train is run from a file, not saved") as never,
      );
    const panel = await openPanel();
    const apply = await within(panel).findByRole("button", { name: "Apply" });
    fireEvent.click(apply);
    expect(await within(panel).findByRole("status")).toHaveTextContent("Nothing to change");
    await waitFor(() => expect(apply).toBeEnabled());
    fireEvent.click(apply);
    expect(await within(panel).findByRole("alert")).toHaveTextContent(
      "Apply: pipeline train is run from a file, not saved",
    );
  });

  it("offers no Apply to a viewer", async () => {
    me("viewer");
    const panel = await openPanel();
    await within(panel).findByTestId("rightsize-task-fit");
    await waitFor(() => expect(within(panel).queryByRole("button", { name: "Apply" })).toBeNull());
    expect(panel).toHaveTextContent("Applying needs the developer role");
  });
});
