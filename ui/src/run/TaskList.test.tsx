// TaskList: a count per status; a short list whole; a long one renders only the rows in view
// (scrolling brings the others), and a click on a row chooses its task.
import { fireEvent, render, screen } from "@testing-library/react";

import { TaskList } from "./TaskList";

const tasks = (n: number) =>
  Object.fromEntries(
    Array.from({ length: n }, (_, i) => [
      `t${String(i).padStart(4, "0")}`,
      { status: i % 3 === 0 ? "succeeded" : "pending" },
    ]),
  );

describe("TaskList", () => {
  it("lists a short run whole, with a count per status", () => {
    render(<TaskList tasks={tasks(6)} onSelect={() => {}} />);
    expect(screen.getAllByRole("button")).toHaveLength(6);
    expect(screen.getByText("2 succeeded")).toBeInTheDocument();
    expect(screen.getByText("4 pending")).toBeInTheDocument();
  });

  it("renders only the rows in view of a long run, and the others when scrolled to", () => {
    const chosen: string[] = [];
    render(<TaskList tasks={tasks(1000)} onSelect={(name) => chosen.push(name)} />);
    expect(screen.getAllByRole("button").length).toBeLessThan(50);
    expect(screen.getByText("334 succeeded")).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "t0500" })).toBeNull();
    const box = screen.getByTestId("task-list").querySelector(".task-list-scroll")!;
    box.scrollTop = 500 * 26;
    fireEvent.scroll(box);
    fireEvent.click(screen.getByRole("button", { name: "t0500" }));
    expect(chosen).toEqual(["t0500"]);
    expect(screen.queryByRole("button", { name: "t0000" })).toBeNull();
  });
});
