import { describe, expect, it } from "vitest";

import type { ArgsSchema, TemplateOut, TemplateSummary } from "../../api/templates";
import { commandTask, defaultArgs, memoryText, taskFromTemplate, templateResources } from "./newTask";
import { groupTemplates } from "./TemplatePalette";

const schema: ArgsSchema = {
  type: "object",
  properties: {
    model: { type: "string", enum: ["a", "b"], default: "a" },
    epochs: { type: "integer", default: 10 },
    tags: { type: "array", default: ["x"] },
    data: { type: "string" },
  },
};

describe("a new task from the palette", () => {
  it("takes the schema's defaults and the template's resources", () => {
    const template = { template: { resources: { cpu: 2, memory: 1073741824, gpu: 0 } } };
    const task = taskFromTemplate("trainer", template as unknown as TemplateOut, schema);
    expect(task).toEqual({
      name: "trainer",
      template: "trainer",
      args: { model: "a", epochs: 10, tags: ["x"] },
      resources: { cpu: 2, memory: "1Gi" },
    });
    expect(defaultArgs(undefined)).toEqual({});
    expect(memoryText(512 * 2 ** 20)).toBe("512Mi");
    expect(memoryText(1000)).toBe("1000");
    expect(templateResources(undefined)).toBeUndefined();
  });

  it("makes a plain command task", () => {
    expect(commandTask()).toMatchObject({ name: "command", command: expect.any(String) });
  });

  it("groups templates by category and searches name and description", () => {
    const t = (name: string, category: string, description = "") =>
      ({ name, category, description }) as TemplateSummary;
    const all = [t("train", "training", "fit a model"), t("load", "data"), t("eval", "training")];
    expect(groupTemplates(all, "").map(([c, items]) => [c, items.length])).toEqual([
      ["data", 1],
      ["training", 2],
    ]);
    expect(groupTemplates(all, "MODEL")).toEqual([["training", [all[0]]]]);
  });
});
