import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";

import { describe, expect, it } from "vitest";
import { parse } from "yaml";

import type { PipelineJson } from "./types";
import { fromYaml, toYaml } from "./yamlText";

// Vitest runs from ui/; the examples are the repository's.
const examples = resolve(process.cwd(), "..", "examples");
const files = readdirSync(examples).filter((f) => f.endsWith(".yaml"));

describe("YAML round-trip", () => {
  it("finds the examples", () => {
    expect(files.length).toBeGreaterThanOrEqual(5);
  });

  it.each(files)("%s: JSON → YAML → JSON is the same", (file) => {
    const json = parse(readFileSync(join(examples, file), "utf8")) as PipelineJson;
    expect(Array.isArray(json.tasks)).toBe(true);
    const text = toYaml(json);
    const back = fromYaml(text);
    expect(back).toEqual({ ok: true, pipeline: json });
    expect(toYaml((back as { pipeline: PipelineJson }).pipeline)).toBe(text);
  });

  it("reads JSON as well", () => {
    const json: PipelineJson = { name: "p", tasks: [{ name: "a", command: "echo 'x: y'" }] };
    expect(fromYaml(JSON.stringify(json))).toEqual({ ok: true, pipeline: json });
  });

  it("reports a parse error with its line", () => {
    const result = fromYaml("name: p\ntasks:\n  - name: a\n   command: [oops\n");
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.line).toBeGreaterThanOrEqual(3);
      expect(result.message).not.toBe("");
    }
  });

  it("refuses what is not a pipeline", () => {
    expect(fromYaml("- a\n- b\n")).toMatchObject({ ok: false });
    expect(fromYaml("name: p\ntasks: 3\n")).toMatchObject({ ok: false, message: expect.stringContaining("tasks") });
    expect(fromYaml("name: p\ntasks: [1]\n")).toMatchObject({ ok: false });
  });
});
