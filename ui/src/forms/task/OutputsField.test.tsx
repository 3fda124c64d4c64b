import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";

import { Controlled } from "../testing";
import { OutputsField, outputsText, readOutputs } from "./OutputsField";

test("names become value outputs, name:file and name:folder artifacts", () => {
  expect(readOutputs("rows, model:file ,data:folder")).toEqual({
    value: ["rows", { name: "model", type: "file" }, { name: "data", type: "folder" }],
  });
  expect(readOutputs(" ")).toEqual({ value: undefined });
  expect(outputsText(["rows", { name: "model", type: "file" }, { name: "n", type: "parameter" }])).toBe(
    "rows, model:file, n",
  );
});

test("a bad name, kind or a repeated name is refused with the fix", () => {
  expect(readOutputs("my rows").error).toContain("not an output name");
  expect(readOutputs("model:blob").error).toContain("model:file");
  expect(readOutputs("a, a").error).toContain("named twice");
});

test("typing sends up valid outputs only and shows the error inline", async () => {
  const seen: (unknown[] | undefined)[] = [];
  render(
    <Controlled<unknown[] | undefined>
      initial={undefined}
      seen={seen}
      render={(value, onChange) => <OutputsField id="o" outputs={value} onChange={onChange} />}
    />,
  );
  const user = userEvent.setup();
  const input = screen.getByLabelText("outputs");
  await user.type(input, "rows, 9x");
  expect(screen.getByText(/"9x" is not an output name/)).toBeInTheDocument();
  expect(input).toHaveAttribute("aria-invalid", "true");
  await user.clear(input);
  await user.type(input, "rows, model:file");
  expect(seen[seen.length - 1]).toEqual(["rows", { name: "model", type: "file" }]);
  expect(input).not.toHaveAttribute("aria-invalid");
});
