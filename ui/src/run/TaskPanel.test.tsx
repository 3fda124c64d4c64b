// TaskPanel: a task waiting for admission says why, prominently; another message stays a
// quiet hint.
import { render, screen, waitFor } from "@testing-library/react";

import type { TaskDetail } from "../api/runs";
import { TaskPanel } from "./TaskPanel";
import { stubFetch, TASK, withQueries } from "./testing";

afterEach(() => vi.unstubAllGlobals());

const REASON = "queued: needs 4 gpu, queue team-a has 0 of 4 free";

async function show(task: Partial<TaskDetail>) {
  stubFetch(); // every read answers 404: no run detail, metrics or workers to show
  const detail = { ...TASK, status: "queued", ...task } as TaskDetail;
  render(<TaskPanel runId="r1" name="train" task={detail} artifacts={[]} onClose={() => {}} />, {
    wrapper: withQueries().wrapper,
  });
  // The log's read answers 404 too: let it settle before the test ends.
  await waitFor(() =>
    expect(screen.getByTestId("log-state")).toHaveAttribute("data-state", "error"),
  );
}

describe("TaskPanel", () => {
  it("shows a queued task's reason as a notice", async () => {
    await show({ message: REASON });
    const notice = screen.getByTestId("task-waiting");
    expect(notice).toHaveTextContent("Waiting for resources");
    expect(notice).toHaveTextContent(REASON);
    expect(notice).toHaveAttribute("role", "status");
  });

  it("keeps another message a hint", async () => {
    await show({ status: "failed", message: "exit code 1" });
    expect(screen.queryByTestId("task-waiting")).toBeNull();
    expect(screen.getByText("exit code 1")).toHaveClass("hint");
  });
});
