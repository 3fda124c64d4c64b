import { renderHook } from "@testing-library/react";
import { afterEach, beforeEach, expect, test, vi } from "vitest";

import { ApiError } from "../api/http";
import { validatePipeline } from "../api/pipelines";
import { snapshotJson, useMeta } from "./meta";
import { useEditor } from "./store";
import { UNNAMED, useLiveValidation, VALIDATE_DELAY_MS } from "./useLiveValidation";

vi.mock("../api/pipelines", () => ({ validatePipeline: vi.fn() }));
const validate = vi.mocked(validatePipeline);

beforeEach(() => {
  vi.useFakeTimers();
  useMeta.getState().set({ key: "default/new" });
});
afterEach(() => {
  vi.useRealTimers();
  validate.mockReset();
});

test("a new pipeline without a name is checked under a stand-in name, so task problems show", async () => {
  const task = { name: "train", template: "sklearn-train", args: { epochs: "lots" } };
  useEditor.getState().load({ name: "", tasks: [task] }, { positions: {}, notes: [] });
  validate.mockRejectedValue(
    new ApiError(422, "tasks[0].args.epochs: 'lots' is not an int", "tasks[0].args.epochs", [
      { field: "tasks[0].args.epochs", message: "'lots' is not an int" },
    ]),
  );
  renderHook(() => useLiveValidation());
  await vi.advanceTimersByTimeAsync(VALIDATE_DELAY_MS + 10);
  expect(validate).toHaveBeenCalledTimes(1);
  expect(validate.mock.calls[0][1]).toMatchObject({ name: UNNAMED, tasks: [task] });
  expect(useMeta.getState().errors.byTask.train).toEqual({ "args.epochs": "'lots' is not an int" });
});

test("the saved/unsaved snapshot does not depend on the order of keys", () => {
  const layout = { positions: { a: { x: 1, y: 2 } }, notes: [] };
  const one = snapshotJson({ pipeline: { name: "p", tasks: [{ name: "a", command: "x" }] }, layout });
  const two = snapshotJson({
    pipeline: { tasks: [{ command: "x", name: "a" }], name: "p" },
    layout: { notes: [], positions: { a: { y: 2, x: 1 } } },
  });
  expect(one).toBe(two);
  expect(one).not.toBe(snapshotJson({ pipeline: { name: "p", tasks: [] }, layout }));
});
