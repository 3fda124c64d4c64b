// QueuesPage: the pool (free of total) and each queue's used / limit ("no limit" for none),
// weight and counts; a platform admin edits a queue inline (empty: no limit), and the
// server's refusal shows next to the form; anyone else only reads.
import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";

import type { QueueReport } from "../api/queues";
import { useSession } from "../auth/session";
import * as sdk from "../client/sdk.gen";
import { answer, refusal, renderPage } from "./pipelines/testing";
import { QueuesPage } from "./QueuesPage";

vi.mock("../client/sdk.gen", async (original) => ({
  ...(await original<typeof import("../client/sdk.gen")>()),
  queuesListQueues: vi.fn(),
  queuesChangeQueue: vi.fn(),
  authMe: vi.fn(),
}));

const mocked = vi.mocked(sdk);
const GIB = 2 ** 30;

const REPORT: QueueReport = {
  pool: { cpu: 16, memory: 64 * GIB, gpu: 8 },
  free: { cpu: 12.5, memory: 48 * GIB, gpu: 4 },
  queues: [
    {
      name: "default",
      cpu: null,
      memory: null,
      gpu: null,
      weight: 1,
      used: { cpu: 0, memory: 0, gpu: 0 },
      running: 0,
      waiting: 0,
    },
    {
      name: "team-a",
      cpu: 8,
      memory: 32 * GIB,
      gpu: 4,
      weight: 2,
      used: { cpu: 3.5, memory: 16 * GIB, gpu: 4 },
      running: 2,
      waiting: 3,
    },
  ],
};

function as(isAdmin: boolean) {
  useSession.setState({ token: "a-token", project: "default" });
  mocked.authMe.mockImplementation(
    () => answer({ id: 1, name: "u", is_admin: isAdmin, projects: [] }) as never,
  );
}

describe("QueuesPage", () => {
  beforeEach(() => {
    vi.clearAllMocks();
    mocked.queuesListQueues.mockImplementation(() => answer(REPORT) as never);
  });

  it("shows the pool and each queue's usage against its limits", async () => {
    as(false);
    renderPage("/queues", QueuesPage);
    const pool = await screen.findByTestId("pool");
    expect(pool).toHaveTextContent("12.5 free of 16 cores");
    expect(pool).toHaveTextContent("48 GiB free of 64 GiB");
    expect(pool).toHaveTextContent("4 free of 8");

    const cells = (name: string) =>
      within(screen.getByTestId(`queue-row-${name}`))
        .getAllByRole("cell")
        .map((c) => c.textContent);
    expect(cells("default")).toEqual([
      "default",
      "0 / no limit",
      "0 GiB / no limit",
      "0 / no limit",
      "1",
      "0",
      "0",
    ]);
    expect(cells("team-a")).toEqual(["team-a", "3.5 / 8", "16 GiB / 32 GiB", "4 / 4", "2", "2", "3"]);
    await screen.findByText(/Only a platform admin/);
    expect(screen.queryByRole("button", { name: /Edit/ })).toBeNull();
  });

  it("lets an admin change a queue: empty fields send no limit", async () => {
    as(true);
    mocked.queuesChangeQueue.mockImplementation(
      () => answer({ name: "team-a", cpu: null, memory: 32 * GIB, gpu: 6, weight: 3 }) as never,
    );
    renderPage("/queues", QueuesPage);
    await userEvent.click(await screen.findByRole("button", { name: "Edit team-a" }));
    expect(screen.getByTestId("queue-input-memory")).toHaveValue("32Gi");
    await userEvent.clear(screen.getByTestId("queue-input-cpu"));
    await userEvent.clear(screen.getByTestId("queue-input-gpu"));
    await userEvent.type(screen.getByTestId("queue-input-gpu"), "6");
    await userEvent.clear(screen.getByTestId("queue-input-weight"));
    await userEvent.type(screen.getByTestId("queue-input-weight"), "3");
    await userEvent.click(screen.getByTestId("queue-save"));
    await waitFor(() => expect(mocked.queuesChangeQueue).toHaveBeenCalledTimes(1));
    expect(mocked.queuesChangeQueue.mock.calls[0][0]).toMatchObject({
      path: { project: "team-a" },
      body: { cpu: "none", memory: "32Gi", gpu: "6", weight: 3 },
    });
    expect(await screen.findByTestId("queue-saved")).toHaveTextContent("Saved the queue team-a.");
    expect(screen.queryByTestId("queue-save")).toBeNull();
    await waitFor(() => expect(mocked.queuesListQueues).toHaveBeenCalledTimes(2));
  });

  it("shows the server's refusal next to the form, which stays open", async () => {
    as(true);
    const message =
      "memory: 'lots' is not a valid memory: use e.g. 64Gi or none for no limit";
    mocked.queuesChangeQueue.mockImplementation(() => refusal(400, message) as never);
    renderPage("/queues", QueuesPage);
    await userEvent.click(await screen.findByRole("button", { name: "Edit default" }));
    await userEvent.type(screen.getByTestId("queue-input-memory"), "lots");
    await userEvent.click(screen.getByTestId("queue-save"));
    expect(await screen.findByTestId("queue-error")).toHaveTextContent(message);
    expect(screen.getByTestId("queue-save")).toBeEnabled();
  });

  it("checks the weight before sending it", async () => {
    as(true);
    renderPage("/queues", QueuesPage);
    await userEvent.click(await screen.findByRole("button", { name: "Edit default" }));
    await userEvent.clear(screen.getByTestId("queue-input-weight"));
    await userEvent.type(screen.getByTestId("queue-input-weight"), "-1");
    await userEvent.click(screen.getByTestId("queue-save"));
    expect(await screen.findByTestId("queue-error")).toHaveTextContent(
      "weight: '-1' is not a positive number: use e.g. 3",
    );
    expect(mocked.queuesChangeQueue).not.toHaveBeenCalled();
  });
});
