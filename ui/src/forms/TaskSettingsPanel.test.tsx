import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";

import type { ArgsSchema, TemplateOut } from "../api/templates";
import type { FieldErrors, TaskJson } from "../editor/types";
import sklearn from "./fixtures/sklearn-train.schema.json";
import { TaskSettingsPanel } from "./TaskSettingsPanel";
import { Controlled, stubLayout, typeInCode } from "./testing";

const template = {
  name: "sklearn-train",
  version: 1,
  category: "training",
  description: "Train a scikit-learn classifier on a CSV data set.",
  template: { name: "sklearn-train", command: "train", resources: { cpu: 2, memory: 2 ** 31 } },
} as unknown as TemplateOut;

function setup(task: TaskJson, errors: FieldErrors = {}, withTemplate = true) {
  const seen: TaskJson[] = [];
  render(
    <Controlled<TaskJson>
      initial={task}
      seen={seen}
      render={(value, onChange) => (
        <TaskSettingsPanel
          task={value}
          template={withTemplate ? template : undefined}
          schema={withTemplate ? (sklearn as unknown as ArgsSchema) : undefined}
          errors={errors}
          onChange={onChange}
          taskNames={["prepare", value.name]}
        />
      )}
    />,
  );
  return { seen, last: () => seen[seen.length - 1], user: userEvent.setup() };
}

beforeAll(stubLayout);

test("resources and retries are edited with the template's values as placeholders", async () => {
  const { user, last } = setup({ name: "train", template: "sklearn-train" });
  expect(screen.getByLabelText("cpu")).toHaveAttribute("placeholder", "2");
  expect(screen.getByLabelText("memory")).toHaveAttribute("placeholder", "2Gi");
  await user.type(screen.getByLabelText("cpu"), "500m");
  await user.type(screen.getByLabelText("memory"), "4Gi");
  await user.type(screen.getByLabelText("gpu"), "1");
  await user.type(screen.getByLabelText("retries"), "3");
  await user.type(screen.getByLabelText("retry_delay"), "30s");
  await user.type(screen.getByLabelText("timeout"), "1h");
  await user.selectOptions(screen.getByLabelText("trigger"), "all_done");
  await user.click(screen.getByLabelText("skip"));
  expect(last()).toEqual({
    name: "train",
    template: "sklearn-train",
    resources: { cpu: "500m", memory: "4Gi", gpu: 1 },
    retries: 3,
    retry_delay: "30s",
    timeout: "1h",
    trigger: "all_done",
    skip: true,
  });
  await user.clear(screen.getByLabelText("cpu"));
  await user.type(screen.getByLabelText("cpu"), "0.5");
  expect(last().resources).toEqual({ cpu: 0.5, memory: "4Gi", gpu: 1 });
});

test("bad resources and retries show inline, beside the server's messages", async () => {
  const { user } = setup({ name: "train", template: "sklearn-train" }, { "resources.memory": "'lots' is not a memory size" });
  expect(screen.getByText("'lots' is not a memory size")).toBeInTheDocument();
  await user.type(screen.getByLabelText("cpu"), "two");
  expect(screen.getByText(/"two" is not a cpu amount/)).toBeInTheDocument();
  await user.type(screen.getByLabelText("retries"), "200");
  expect(screen.getByText("must be at most 100")).toBeInTheDocument();
  await user.type(screen.getByLabelText("retry_delay"), "soon");
  expect(screen.getByText(/"soon" is not a duration/)).toBeInTheDocument();
});

test("the template's args are a generated form; its errors come from args.*", async () => {
  const { user, last } = setup({ name: "train", template: "sklearn-train", args: { epochs: 10 } }, { "args.regularization": "'x' is not a float" });
  expect(screen.getByText("sklearn-train@1")).toBeInTheDocument();
  expect(screen.getByText("'x' is not a float")).toBeInTheDocument();
  await user.selectOptions(screen.getByLabelText("model"), "random_forest");
  expect(last().args).toEqual({ epochs: 10, model: "random_forest" });
});

test("the name is checked (pattern, unique) and sent up only when valid", async () => {
  const { user, last, seen } = setup({ name: "train", template: "sklearn-train" }, { name: "server says no" });
  expect(screen.getByText("server says no")).toBeInTheDocument();
  const name = screen.getByLabelText("name");
  await user.clear(name);
  expect(screen.getByText(/give the task a name/)).toBeInTheDocument();
  await user.type(name, "prepare");
  expect(screen.getByText(/another task is named prepare/)).toBeInTheDocument();
  await user.type(name, " 2");
  expect(screen.getByText(/start with a letter/)).toBeInTheDocument();
  expect(seen.every((t) => t.name !== "prepare 2" && t.name !== "")).toBe(true);
  await user.clear(name);
  await user.type(name, "fit");
  expect(last().name).toBe("fit");
});

test("a task without template edits its command and env", async () => {
  const { user, last } = setup({ name: "hello", command: "echo hi" }, {}, false);
  typeInCode(screen.getByLabelText("command"), "echo {{ params.who }}");
  expect(last().command).toBe("echo {{ params.who }}");
  await user.click(screen.getByRole("button", { name: "Environment" }));
  await user.click(screen.getByRole("button", { name: "+ add variable" }));
  await user.type(screen.getByLabelText("env name 1"), "WHO");
  await user.type(screen.getByLabelText("env value 1"), "world");
  expect(last().env).toEqual({ WHO: "world" });
});
