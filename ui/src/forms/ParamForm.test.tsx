import { render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";

import type { ArgsSchema } from "../api/templates";
import type { FieldErrors } from "../editor/types";
import allTypes from "./fixtures/all-types.schema.json";
import { ParamForm } from "./ParamForm";
import { Controlled, stubLayout, typeInCode } from "./testing";

type Args = Record<string, unknown>;

// The server's schema (GET /templates/all-types/schema, fixtures/all-types.schema.json) with
// what the server does not write yet: a regex pattern and a free-text enum.
const schema = {
  ...allTypes,
  properties: {
    ...allTypes.properties,
    run_id: { type: "string", pattern: "^[a-z]+-[0-9]+$", description: "Like exp-1", "x-type": "str", "x-order": 9 },
    model: { type: "string", examples: ["resnet", "vit"], description: "A model", "x-type": "str", "x-order": 10 },
  },
} as unknown as ArgsSchema;

function setup(initial: Args = {}, errors: FieldErrors = {}) {
  const seen: Args[] = [];
  render(
    <Controlled<Args>
      initial={initial}
      seen={seen}
      render={(value, onChange) => <ParamForm schema={schema} value={value} errors={errors} onChange={onChange} />}
    />,
  );
  return { seen, last: () => seen[seen.length - 1], user: userEvent.setup() };
}

beforeAll(stubLayout);

test("renders a field for every parameter type, grouped and in file order", () => {
  setup();
  for (const name of ["name", "epochs", "lr", "verbose", "optimizer", "tags", "config", "notes", "device", "run_id", "model"]) {
    expect(screen.getByTestId(`arg-${name}`)).toBeInTheDocument();
  }
  const training = screen.getByRole("group", { name: "training" });
  expect(within(training).getByLabelText("epochs")).toBeInTheDocument();
  expect(within(training).getByLabelText("optimizer").tagName).toBe("SELECT");
  expect(screen.getByLabelText("verbose")).toHaveAttribute("type", "checkbox");
  expect(screen.getByLabelText("model")).toHaveAttribute("list");
  expect(screen.getByText("Passes over the data")).toBeInTheDocument(); // help text
  expect(screen.getByLabelText("epochs")).toHaveAttribute("placeholder", "10"); // default
});

test("marks required parameters", () => {
  setup();
  expect(screen.getByLabelText("name")).toHaveAttribute("aria-required", "true");
  const head = screen.getByText("name", { selector: "label" }).parentElement!;
  expect(within(head).getByTitle("required")).toHaveTextContent("*");
  const lrHead = screen.getByText("lr", { selector: "label" }).parentElement!;
  expect(within(lrHead).queryByTitle("required")).toBeNull();
});

test("int, float and bool are sent as numbers and booleans", async () => {
  const { user, last } = setup();
  await user.type(screen.getByLabelText("epochs"), "20");
  expect(last().epochs).toBe(20);
  await user.type(screen.getByLabelText("lr"), "0.5");
  expect(last().lr).toBe(0.5);
  await user.click(screen.getByLabelText("verbose"));
  expect(last().verbose).toBe(true);
  await user.clear(screen.getByLabelText("epochs"));
  expect(last()).not.toHaveProperty("epochs"); // empty: the default applies
});

test("a number field refuses text inline but takes a template expression", async () => {
  const { user, last } = setup();
  await user.type(screen.getByLabelText("epochs"), "2.5");
  expect(screen.getByText(/2\.5 is not a whole number/)).toBeInTheDocument();
  await user.clear(screen.getByLabelText("epochs"));
  await user.type(screen.getByLabelText("epochs"), "{{{{ params.epochs }}");
  expect(last().epochs).toBe("{{ params.epochs }}");
  expect(screen.queryByText(/not a whole number/)).toBeNull();
});

test("enum: a select of the choices, and a combobox that takes free text", async () => {
  const { user, last } = setup();
  await user.selectOptions(screen.getByLabelText("optimizer"), "sgd");
  expect(last().optimizer).toBe("sgd");
  await user.selectOptions(screen.getByLabelText("device"), "cuda");
  expect(last().device).toBe("cuda");
  await user.type(screen.getByLabelText("model"), "my-own-net");
  expect(last().model).toBe("my-own-net");
  expect(screen.queryByText(/not one of the choices/)).toBeNull();
});

test("list: rows with add and remove, sent as an array", async () => {
  const { user, last } = setup();
  await user.click(screen.getByRole("button", { name: "add tags item" }));
  await user.type(screen.getByLabelText("tags item 1"), "fast");
  await user.click(screen.getByRole("button", { name: "add tags item" }));
  await user.type(screen.getByLabelText("tags item 2"), "gpu");
  expect(last().tags).toEqual(["fast", "gpu"]);
  await user.click(screen.getByRole("button", { name: "remove tags item 1" }));
  expect(last().tags).toEqual(["gpu"]);
});

test("json: parsed as typed, with the parse error inline until fixed", () => {
  const { last, seen } = setup();
  const editor = screen.getByLabelText("config");
  expect(editor).toHaveAttribute("data-testid", "arg-config");
  typeInCode(editor, '{"depth": ');
  expect(screen.getByText(/not valid JSON/)).toBeInTheDocument();
  expect(seen).toHaveLength(0);
  typeInCode(editor, '{"depth": 5, "heads": [1, 2]}');
  expect(last().config).toEqual({ depth: 5, heads: [1, 2] });
  expect(screen.queryByText(/not valid JSON/)).toBeNull();
});

test("text: a code editor whose text is sent as a string", () => {
  const { last } = setup();
  typeInCode(screen.getByLabelText("notes"), "line one\nline two");
  expect(last().notes).toBe("line one\nline two");
});

test("str with a pattern: the error shows as typed and clears when fixed", async () => {
  const { user, last } = setup();
  const input = screen.getByLabelText("run_id");
  await user.type(input, "Exp");
  expect(screen.getByText("does not match the pattern ^[a-z]+-[0-9]+$")).toBeInTheDocument();
  expect(input).toHaveAttribute("aria-invalid", "true");
  await user.clear(input);
  await user.type(input, "exp-12");
  expect(screen.queryByText(/does not match/)).toBeNull();
  expect(last().run_id).toBe("exp-12");
});

test("required: emptied shows a message; server errors show beside the field", async () => {
  const { user } = setup({ name: "a" }, { lr: "'fast' is not a float" });
  expect(screen.getByText("'fast' is not a float")).toBeInTheDocument();
  await user.clear(screen.getByLabelText("name"));
  expect(screen.getByText("required: give a value")).toBeInTheDocument();
});

test("an arg the template does not have is shown and can be removed", async () => {
  const { user, last } = setup({ old_arg: 1 });
  expect(screen.getByText(/no parameter 'old_arg'/)).toBeInTheDocument();
  await user.click(screen.getByRole("button", { name: "remove it" }));
  expect(last()).toEqual({});
});
