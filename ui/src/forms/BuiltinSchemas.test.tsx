// The form of the built-in templates, from their schemas as GET /templates/{name}/schema
// returned them (fixtures/*.schema.json, captured from a running server).
import { render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";

import type { ArgsSchema } from "../api/templates";
import python from "./fixtures/python.schema.json";
import shell from "./fixtures/shell.schema.json";
import { ParamForm } from "./ParamForm";
import { Controlled, stubLayout, typeInCode } from "./testing";

type Args = Record<string, unknown>;

function setup(schema: unknown, initial: Args = {}) {
  const seen: Args[] = [];
  render(
    <Controlled<Args>
      initial={initial}
      seen={seen}
      render={(value, onChange) => <ParamForm schema={schema as ArgsSchema} value={value} errors={{}} onChange={onChange} />}
    />,
  );
  return { last: () => seen[seen.length - 1], user: userEvent.setup() };
}

beforeAll(stubLayout);

test("python: file order, the code group holds script and file; defaults are placeholders", async () => {
  const { user, last } = setup(python);
  const code = screen.getByRole("group", { name: "code" });
  expect(within(code).getByLabelText("script")).toHaveAttribute("data-testid", "arg-script");
  expect(within(code).getByLabelText("file")).toBeInTheDocument();
  expect(screen.getByLabelText("interpreter")).toHaveAttribute("placeholder", "${CUBE_PYTHON:-python3}");
  const order = screen.getAllByTestId(/^arg-[a-z]+$/).map((el) => el.dataset.testid);
  expect(order).toEqual(["arg-script", "arg-file", "arg-arguments", "arg-interpreter"]);
  typeInCode(screen.getByLabelText("script"), "print('hi')");
  await user.click(screen.getByRole("button", { name: "add arguments item" }));
  await user.type(screen.getByLabelText("arguments item 1"), "--fast");
  expect(last()).toEqual({ script: "print('hi')", arguments: ["--fast"] });
});

test("shell: the command is required", () => {
  setup(shell, { command: "echo hi" });
  const command = screen.getByLabelText("command");
  expect(command).toHaveAttribute("aria-required", "true");
  expect(command).toHaveTextContent("echo hi");
  typeInCode(command, "");
  expect(screen.getByText("required: give a value")).toBeInTheDocument();
});
