// What a drop on the canvas does: fetch the template and its schema (cached by TanStack
// Query), then add the task at the drop point as one undoable edit.
import { useQueryClient } from "@tanstack/react-query";
import { useCallback } from "react";

import { keys } from "../../api/keys";
import { unwrap } from "../../api/http";
import type { ArgsSchema } from "../../api/templates";
import { templatesGetSchema, templatesGetTemplate } from "../../client/sdk.gen";
import { GRID } from "../graph";
import { notify } from "../meta";
import { useEditor } from "../store";
import type { XY } from "../types";
import { COMMAND_ENTRY, commandTask, TEMPLATE_ENTRY, taskFromTemplate } from "./newTask";

export const DRAG_MIME = "application/x-cube-palette";

const snap = (at: XY): XY => ({
  x: Math.round(at.x / GRID[0]) * GRID[0],
  y: Math.round(at.y / GRID[1]) * GRID[1],
});

export function useDropTask() {
  const queries = useQueryClient();
  return useCallback(
    async (entry: string, at: XY) => {
      const position = snap(at);
      if (entry === COMMAND_ENTRY) {
        useEditor.getState().addTask(commandTask(), position);
        return;
      }
      if (!entry.startsWith(TEMPLATE_ENTRY)) return;
      const name = entry.slice(TEMPLATE_ENTRY.length);
      try {
        const [template, schema] = await Promise.all([
          queries.fetchQuery({
            queryKey: keys.template(name),
            queryFn: () => unwrap(templatesGetTemplate({ path: { name } })),
            staleTime: 60_000,
          }),
          queries.fetchQuery({
            queryKey: keys.schema(name, undefined),
            queryFn: async () =>
              (await unwrap(templatesGetSchema({ path: { name } }))) as unknown as ArgsSchema,
            staleTime: 60_000,
          }),
        ]);
        useEditor.getState().addTask(taskFromTemplate(name, template, schema), position);
      } catch (err) {
        notify(`could not add ${name}: ${err instanceof Error ? err.message : String(err)}`);
      }
    },
    [queries],
  );
}
