import { describe, expect, it } from "vitest";

import { sortErrors } from "./fieldErrors";
import type { PipelineJson } from "./types";

const spec: PipelineJson = {
  name: "p",
  tasks: [
    { name: "prepare", command: "true" },
    { name: "train", template: "trainer", depends: ["prepare"] },
  ],
};

describe("sortErrors", () => {
  it("puts index paths on the task they name, relative to it", () => {
    const sorted = sortErrors(
      [
        { field: "tasks[1].args.lr", message: "must be a number" },
        { field: "tasks[1].depends[0]", message: "unknown task 'prep'" },
        { field: "tasks[0]", message: "unknown field 'cmd'" },
        { field: "tasks.prepare.retries", message: "must be >= 0" },
      ],
      spec,
    );
    expect(sorted.byTask.train).toEqual({
      "args.lr": "must be a number",
      "depends[0]": "unknown task 'prep'",
    });
    expect(sorted.byTask.prepare).toEqual({ name: "unknown field 'cmd'", retries: "must be >= 0" });
    expect(sorted.count).toBe(4);
  });

  it("keeps pipeline fields top-level and the rest general", () => {
    const sorted = sortErrors(
      [
        { field: "schedule.cron", message: "bad cron" },
        { field: "params.lr", message: "not a float" },
        { field: null, message: "invalid YAML" },
        { field: "tasks", message: "a pipeline needs at least one task" },
        { field: "tasks[9].name", message: "gone" },
      ],
      spec,
    );
    expect(sorted.pipeline).toEqual({ "schedule.cron": "bad cron", "params.lr": "not a float" });
    expect(sorted.general).toEqual([
      "invalid YAML",
      "tasks: a pipeline needs at least one task",
      "tasks[9].name: gone",
    ]);
  });

  it("joins two problems of one field", () => {
    const sorted = sortErrors(
      [
        { field: "tasks[0].command", message: "one" },
        { field: "tasks[0].command", message: "two" },
      ],
      spec,
    );
    expect(sorted.byTask.prepare.command).toBe("one; two");
  });
});
