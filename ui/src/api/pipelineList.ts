// The pipelines list page: the project's pipelines (search on the server), switching a
// schedule on and off, starting a run, copying (the latest version saved under a new name),
// importing a YAML/JSON file, deleting. Per-pipeline editor hooks are in pipelines.ts.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";

import {
  pipelinesCreatePipeline,
  pipelinesDeletePipeline,
  pipelinesDisableSchedule,
  pipelinesEnableSchedule,
  pipelinesGetPipeline,
  pipelinesListPipelines,
  pipelinesTrigger,
} from "../client/sdk.gen";
import type { PipelineOut } from "../client/types.gen";
import { useSession } from "../auth/session";
import { useMe } from "./auth";
import { unwrap } from "./http";
import { keys } from "./keys";

/** The `schedule` of a listed pipeline (routes/pipelines.py `_out`); null: no schedule block. */
export interface ScheduleSummary {
  cron: string;
  timezone: string;
  enabled: boolean;
}

export type PipelineRow = Omit<PipelineOut, "schedule"> & { schedule: ScheduleSummary | null };

/** What POST …/pipelines/{name}/runs answers. */
export interface Triggered {
  run_id: string;
  pipeline: string;
  version: number;
}

/** What …/schedule/enable answers (disable answers `enabled` alone). */
export interface ScheduleSwitched {
  enabled: boolean;
  start?: string;
  next?: string;
}

export function usePipelineList(q: string) {
  const project = useSession((s) => s.project);
  const search = q.trim();
  return useQuery({
    queryKey: [...keys.pipelines(project), { q: search }],
    queryFn: async () =>
      (await unwrap(
        pipelinesListPipelines({
          path: { project },
          query: search ? { q: search } : undefined,
        }),
      )) as PipelineRow[],
    refetchInterval: 10_000,
    refetchOnWindowFocus: true,
    placeholderData: (previous) => previous,
  });
}

function useInvalidateList() {
  const project = useSession((s) => s.project);
  const queries = useQueryClient();
  return () => {
    void queries.invalidateQueries({ queryKey: keys.pipelines(project) });
    void queries.invalidateQueries({ queryKey: keys.schedules(project) });
  };
}

export function useScheduleSwitch() {
  const project = useSession((s) => s.project);
  const invalidate = useInvalidateList();
  return useMutation({
    mutationFn: async ({ name, enabled }: { name: string; enabled: boolean }) => {
      const call = enabled ? pipelinesEnableSchedule : pipelinesDisableSchedule;
      return (await unwrap(call({ path: { project, name } }))) as ScheduleSwitched;
    },
    onSettled: invalidate,
  });
}

export function useRunPipeline() {
  const project = useSession((s) => s.project);
  const invalidate = useInvalidateList();
  return useMutation({
    mutationFn: async (name: string) =>
      (await unwrap(pipelinesTrigger({ path: { project, name }, body: {} }))) as Triggered,
    onSuccess: invalidate,
  });
}

/** Copy: the latest version's spec and layout saved as a new pipeline called `to`. */
export function useCopyPipeline() {
  const project = useSession((s) => s.project);
  const invalidate = useInvalidateList();
  return useMutation({
    mutationFn: async ({ from, to }: { from: string; to: string }) => {
      const latest = await unwrap(pipelinesGetPipeline({ path: { project, name: from } }));
      const spec = { ...latest.spec, name: to };
      return unwrap(
        pipelinesCreatePipeline({
          path: { project },
          body: { spec, layout: latest.layout ?? null, message: `copied from ${from}` },
        }),
      );
    },
    onSuccess: invalidate,
  });
}

export function useDeletePipeline() {
  const project = useSession((s) => s.project);
  const invalidate = useInvalidateList();
  return useMutation({
    mutationFn: (name: string) => unwrap(pipelinesDeletePipeline({ path: { project, name } })),
    onSuccess: invalidate,
  });
}

/** Import a file: JSON (by name or first character) is sent as `spec`, anything else as YAML. */
export function useImportPipeline() {
  const project = useSession((s) => s.project);
  const invalidate = useInvalidateList();
  return useMutation({
    mutationFn: async ({ fileName, text }: { fileName: string; text: string }) => {
      const body = importBody(fileName, text);
      return unwrap(pipelinesCreatePipeline({ path: { project }, body }));
    },
    onSuccess: invalidate,
  });
}

export function importBody(
  fileName: string,
  text: string,
): { spec: Record<string, unknown>; message: string } | { yaml: string; message: string } {
  const message = `imported from ${fileName}`;
  const isJson = fileName.toLowerCase().endsWith(".json") || text.trimStart().startsWith("{");
  if (!isJson) return { yaml: text, message };
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new Error(`${fileName} is not valid JSON: ${(err as Error).message}`);
  }
  if (data === null || typeof data !== "object" || Array.isArray(data)) {
    throw new Error(`${fileName}: a pipeline is a JSON object with name and tasks`);
  }
  return { spec: data as Record<string, unknown>, message };
}

/** Whether the session's user may change things in the current project (developer or admin);
 * true while not yet known, so that the server stays the judge. */
export function useCanEdit(): boolean {
  const project = useSession((s) => s.project);
  const me = useMe();
  const role = me.data?.projects.find((p) => p.name === project)?.role;
  return role === undefined || role !== "viewer";
}
