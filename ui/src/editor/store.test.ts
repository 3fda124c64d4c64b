import { beforeEach, describe, expect, it } from "vitest";

import { redo, undo, useEditor } from "./store";
import type { PipelineJson } from "./types";

const start: PipelineJson = {
  name: "p",
  tasks: [{ name: "prepare", command: "echo prepare" }],
};
const editor = () => useEditor.getState();
const history = () => useEditor.temporal.getState();
const names = () => editor().pipeline.tasks.map((t) => t.name);

beforeEach(() => {
  editor().load(start, { positions: { prepare: { x: 0, y: 0 } }, notes: [] });
});

describe("the editor store's history", () => {
  it("starts a loaded pipeline with no history", () => {
    expect(history().pastStates).toHaveLength(0);
    expect(names()).toEqual(["prepare"]);
  });

  it("undoes and redoes add, connect and edit", () => {
    const added = editor().addTask({ name: "train", command: "echo train" }, { x: 300, y: 0 });
    expect(added).toBe("train");
    expect(editor().connect("prepare", "train")).toEqual({ ok: true });
    const train = editor().pipeline.tasks[1];
    editor().updateTask("train", { ...train, command: "echo fit", retries: 2 });
    expect(editor().pipeline.tasks[1]).toMatchObject({ command: "echo fit", depends: ["prepare"] });

    undo(); // the edit
    expect(editor().pipeline.tasks[1]).toMatchObject({ command: "echo train", depends: ["prepare"] });
    undo(); // the edge
    expect(editor().pipeline.tasks[1].depends).toBeUndefined();
    expect(names()).toEqual(["prepare", "train"]);
    redo(); // the edge again
    expect(editor().pipeline.tasks[1].depends).toEqual(["prepare"]);
    undo();
    undo(); // the add
    expect(names()).toEqual(["prepare"]);
    expect(editor().layout.positions.train).toBeUndefined();
    redo();
    expect(names()).toEqual(["prepare", "train"]);
    expect(editor().layout.positions.train).toEqual({ x: 300, y: 0 });
  });

  it("records a refused connection as nothing", () => {
    editor().addTask({ name: "train", command: "x" }, { x: 0, y: 0 });
    editor().connect("prepare", "train");
    const before = history().pastStates.length;
    const refused = editor().connect("train", "prepare");
    expect(refused.ok).toBe(false);
    expect(editor().connect("prepare", "train").ok).toBe(false);
    expect(history().pastStates.length).toBe(before);
  });

  it("keeps selection out of the history", () => {
    editor().select(["prepare"]);
    editor().select([]);
    expect(history().pastStates).toHaveLength(0);
  });

  it("undoes a move, a delete, a rename and a settings change", () => {
    editor().moveNodes({ prepare: { x: 48, y: 16 } });
    editor().moveNodes({ prepare: { x: 48, y: 16 } }); // no change: no step
    expect(history().pastStates).toHaveLength(1);
    editor().updateTask("prepare", { name: "load", command: "echo prepare" });
    expect(editor().layout.positions.load).toEqual({ x: 48, y: 16 });
    editor().updateSettings({ ...editor().pipeline, description: "d", tasks: [] });
    expect(editor().pipeline.description).toBe("d");
    expect(names()).toEqual(["load"]); // settings never touch the tasks
    editor().updateTask("load", { name: "load", command: "x" });
    editor().addTask({ name: "other", command: "y" }, { x: 0, y: 0 });
    editor().updateTask("load", { name: "other", command: "x" }); // a clash: refused
    expect(names()).toEqual(["load", "other"]);
    undo();
    undo();
    editor().remove(["load"]);
    expect(names()).toEqual([]);
    undo();
    undo();
    undo();
    expect(names()).toEqual(["prepare"]);
    undo();
    expect(editor().layout.positions.prepare).toEqual({ x: 0, y: 0 });
  });
});

describe("copy, paste and duplicate", () => {
  it("gives pasted tasks unique names and keeps their edges among them", () => {
    editor().addTask({ name: "train", command: "x" }, { x: 300, y: 0 });
    editor().connect("prepare", "train");
    editor().duplicate(["prepare", "train"]);
    expect(names()).toEqual(["prepare", "train", "prepare-2", "train-2"]);
    const copy = editor().pipeline.tasks[3];
    expect(copy.depends).toEqual(["prepare-2"]);
    expect(editor().layout.positions["train-2"]).toEqual({ x: 340, y: 40 });
    expect(editor().selected).toEqual(["prepare-2", "train-2"]);
    editor().duplicate(["train"]);
    expect(names()).toContain("train-3");
    expect(editor().pipeline.tasks.at(-1)?.depends).toEqual(["prepare"]);
    undo();
    undo();
    expect(names()).toEqual(["prepare", "train"]);
  });

  it("adds, edits and removes notes as undoable edits", () => {
    const id = editor().addNote({ x: 5, y: 5 }, "hi");
    editor().updateNote(id, { text: "hello" });
    expect(editor().layout.notes[0].text).toBe("hello");
    editor().moveNodes({ [`note:${id}`]: { x: 50, y: 60 } });
    expect(editor().layout.notes[0].position).toEqual({ x: 50, y: 60 });
    editor().remove([`note:${id}`]);
    expect(editor().layout.notes).toHaveLength(0);
    undo();
    undo();
    undo();
    expect(editor().layout.notes[0].text).toBe("hi");
  });
});
