import { fireEvent, render, screen } from "@testing-library/react";
import { useState } from "react";
import { describe, expect, it } from "vitest";
import YAML from "yaml";

import {
  emptyBuilder,
  emptyParam,
  fromYaml,
  problems,
  toYaml,
  type BuilderState,
  type ParamRow,
  type ParamType,
} from "./builderYaml";
import { TemplateBuilder } from "./TemplateBuilder";

function row(name: string, type: ParamType, defaultText: string, more: Partial<ParamRow> = {}) {
  return { ...emptyParam(), name, type, defaultText, ...more };
}

// One parameter of every type, each with a default, and the data its YAML must hold.
const CASES: [ParamRow, Record<string, unknown>][] = [
  [row("title", "str", "hello world"), { name: "title", type: "str", default: "hello world" }],
  [row("epochs", "int", "10", { required: true }), { name: "epochs", type: "int", default: 10, required: true }],
  [row("lr", "float", "0.001", { group: "optimiser" }), { name: "lr", type: "float", default: 0.001, group: "optimiser" }],
  [row("shuffle", "bool", "false"), { name: "shuffle", type: "bool", default: false }],
  [
    row("optimizer", "enum", "adam", { choicesText: "adam, sgd, 3", description: "which one" }),
    { name: "optimizer", type: "enum", choices: ["adam", "sgd", 3], default: "adam", description: "which one" },
  ],
  [row("layers", "list", "[64, 32]"), { name: "layers", type: "list", default: [64, 32] }],
  [row("tags", "list", "a, b"), { name: "tags", type: "list", default: ["a", "b"] }],
  [row("config", "json", '{"depth": 3, "names": ["x"]}'), { name: "config", type: "json", default: { depth: 3, names: ["x"] } }],
  [row("script", "text", "line one\nline two\n"), { name: "script", type: "text", default: "line one\nline two\n" }],
  [row("extra", "str", "", { required: true }), { name: "extra", type: "str", required: true }],
  [
    row("bucket", "str", "s3://data", { pattern: "s3://[a-z]+" }),
    { name: "bucket", type: "str", pattern: "s3://[a-z]+", default: "s3://data" },
  ],
  [
    row("device", "enum", "cuda:1", { choicesText: "cpu, cuda", allowOther: true }),
    { name: "device", type: "enum", choices: ["cpu", "cuda"], allow_other: true, default: "cuda:1" },
  ],
];

function builder(
  parameters: ParamRow[],
  command = "python train.py --epochs {{ args.epochs }}\necho done\n",
): BuilderState {
  return {
    name: "train-model",
    category: "train",
    description: "Train a model",
    image: "python:3.11-slim",
    command,
    parameters,
  };
}

describe("the parameter-schema builder's YAML", () => {
  it.each(CASES)("writes a %s parameter as the template file expects", (param, expected) => {
    const state = builder([param], `run {{ args.${param.name} }}`);
    const data = YAML.parse(toYaml(state));
    expect(data.parameters).toEqual([expected]);
    expect(problems(state)).toEqual({});
  });

  it("writes the template's own fields in file order and leaves empty ones out", () => {
    const state = builder(CASES.map(([p]) => p));
    const text = toYaml(state);
    const data = YAML.parse(text);
    expect(Object.keys(data)).toEqual(["name", "description", "category", "image", "command", "parameters"]);
    expect(data.command).toBe("python train.py --epochs {{ args.epochs }}\necho done\n");
    expect(text).toContain("command: |");
    const bare = { ...emptyBuilder(), name: "x", command: "true" };
    expect(YAML.parse(toYaml(bare))).toEqual({ name: "x", category: "general", command: "true" });
  });

  it("round-trips: the YAML read back into the builder makes the same YAML", () => {
    const state = builder(CASES.map(([p]) => p));
    const text = toYaml(state);
    const back = fromYaml(text);
    expect(toYaml(back)).toBe(text);
    expect(YAML.parse(toYaml(back))).toEqual(YAML.parse(text));
    expect(back.parameters.map((p) => [p.name, p.type, p.required])).toEqual(
      state.parameters.map((p) => [p.name, p.type, p.required]),
    );
  });

  it("reads a template file written by hand", () => {
    const text = [
      "name: sklearn-dataset",
      "category: data",
      "command: echo {{ args.samples }}",
      "parameters:",
      "  - {name: samples, type: int, default: 1000, description: Number of rows, group: data}",
      "  - {name: mode, type: enum, choices: [fast, slow], default: fast}",
    ].join("\n");
    const state = fromYaml(text);
    expect(state.parameters[0]).toMatchObject({ name: "samples", type: "int", defaultText: "1000", group: "data" });
    expect(state.parameters[1]).toMatchObject({ type: "enum", choicesText: "fast, slow", defaultText: "fast" });
    expect(() => fromYaml("name: x\ncommand: y\nenv: {A: b}\n")).toThrow(/no field for env/);
  });

  it("finds what the server would refuse, by the server's field paths", () => {
    const state = builder([
      row("epochs", "int", "ten"),
      row("lr", "float", "fast"),
      row("flag", "bool", "yes"),
      row("opt", "enum", ""),
      row("pick", "enum", "c", { choicesText: "a, b" }),
      row("cfg", "json", "{bad}"),
      row("epochs", "str", ""),
      row("2bad", "str", ""),
      row("bucket", "str", "S3://DATA", { pattern: "s3://[a-z]+" }),
      row("loose", "str", "x", { pattern: "(unclosed" }),
    ]);
    const found = problems({ ...state, name: "Bad Name", command: " " });
    expect(found).toMatchObject({
      name: expect.stringContaining("lowercase"),
      command: expect.any(String),
      "parameters[0].default": '"ten" is not an int',
      "parameters[1].default": '"fast" is not a float',
      "parameters[2].default": "choose true or false",
      "parameters[3].choices": expect.stringContaining("choices"),
      "parameters[4].default": '"c" is not one of the choices',
      "parameters[5].default": expect.stringContaining("JSON"),
      "parameters[6].name": "parameter 'epochs' is declared twice",
      "parameters[7].name": expect.any(String),
      "parameters[8].default": '"S3://DATA" does not match the pattern s3://[a-z]+',
      "parameters[9].pattern": expect.stringContaining("not a regular expression"),
    });
    const undeclared = problems(builder([], "echo args.x {{ args.epochs | int }}"));
    expect(undeclared.command).toBe(
      "command uses 'args.epochs', which is not a parameter (declare it under parameters)",
    );
  });
});

function Harness() {
  const [state, setState] = useState<BuilderState>(emptyBuilder);
  return <TemplateBuilder state={state} problems={problems(state)} onChange={setState} />;
}

describe("TemplateBuilder", () => {
  it("shows the YAML live as rows are added and filled", () => {
    render(<Harness />);
    fireEvent.change(screen.getByTestId("template-name"), { target: { value: "my-tpl" } });
    fireEvent.change(screen.getByTestId("template-command"), { target: { value: "echo {{ args.n }}" } });
    fireEvent.click(screen.getByTestId("add-parameter"));
    fireEvent.change(screen.getByTestId("param-name-0"), { target: { value: "n" } });
    fireEvent.change(screen.getByTestId("param-type-0"), { target: { value: "int" } });
    fireEvent.change(screen.getByTestId("param-default-0"), { target: { value: "5" } });
    const data = YAML.parse(screen.getByTestId("builder-yaml").textContent ?? "");
    expect(data).toEqual({
      name: "my-tpl",
      category: "general",
      command: "echo {{ args.n }}",
      parameters: [{ name: "n", type: "int", default: 5 }],
    });
    fireEvent.change(screen.getByTestId("param-default-0"), { target: { value: "5.5" } });
    expect(screen.getByText('"5.5" is not an int')).toBeInTheDocument();
    fireEvent.click(screen.getByRole("button", { name: "Remove n" }));
    expect(screen.queryByTestId("param-row-0")).toBeNull();
  });
});
