// Pipelines: the list, the latest version, one version, the versions and their diff, create
// and save (every save a version), validation as the editor types, trigger, debug one task,
// the schedule's next run times, delete. One hook per API call.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";

import {
  pipelinesCreatePipeline,
  pipelinesDebug,
  pipelinesDeletePipeline,
  pipelinesDiffVersions,
  pipelinesGetPipeline,
  pipelinesGetVersion,
  pipelinesListPipelines,
  pipelinesListVersions,
  pipelinesSavePipeline,
  pipelinesSchedulePreview,
  pipelinesTrigger,
  pipelinesValidate,
} from "../client/sdk.gen";
import type {
  CubestudioApiRoutesPipelinesVersionOut as VersionOut,
  PipelineOut,
  VersionInfo,
} from "../client/types.gen";
import { useSession } from "../auth/session";
import type { LayoutJson, PipelineJson } from "../editor/types";
import { unwrap } from "./http";
import { keys } from "./keys";

export type { PipelineOut, VersionInfo, VersionOut };

/** What the editor sends on save or validation. */
export interface PipelineDraft {
  spec: PipelineJson;
  layout?: LayoutJson | null;
  message?: string | null;
}
/** GET …/diff (no response model on the server). */
export interface VersionDiff {
  from: number;
  to: number;
  unified: string;
  tasks: { added: string[]; removed: string[]; changed: string[] };
  settings_changed: string[];
}
/** POST …/runs. */
export interface Triggered {
  run_id: string;
  pipeline: string;
  version: number;
}
/** POST …/debug. */
export interface DebugStarted {
  run_id: string;
  pipeline: string;
  task: string;
}
/** GET …/schedule: the latest saved version's schedule and its next run times (UTC). */
export interface SchedulePreview {
  cron: string;
  timezone: string;
  enabled: boolean;
  next: string[];
}

const body = (draft: PipelineDraft) => ({
  spec: draft.spec as unknown as Record<string, unknown>,
  layout: (draft.layout ?? null) as unknown as Record<string, unknown> | null,
  message: draft.message || null,
});

export function usePipelines() {
  const project = useSession((s) => s.project);
  return useQuery({
    queryKey: keys.pipelines(project),
    queryFn: () => unwrap(pipelinesListPipelines({ path: { project } })),
  });
}

/** The latest version ("new" or undefined: nothing to fetch). */
export function usePipeline(name: string | undefined) {
  const project = useSession((s) => s.project);
  return useQuery({
    queryKey: keys.pipeline(project, name ?? ""),
    queryFn: () => unwrap(pipelinesGetPipeline({ path: { project, name: name! } })),
    enabled: Boolean(name) && name !== "new",
  });
}

export function usePipelineVersion(name: string, version: number | undefined) {
  const project = useSession((s) => s.project);
  return useQuery({
    queryKey: keys.version(project, name, version ?? 0),
    queryFn: () => unwrap(pipelinesGetVersion({ path: { project, name, version: version! } })),
    enabled: version !== undefined && version > 0,
    staleTime: Infinity, // a version never changes
  });
}

export function usePipelineVersions(name: string, enabled = true) {
  const project = useSession((s) => s.project);
  return useQuery({
    queryKey: keys.versions(project, name),
    queryFn: () => unwrap(pipelinesListVersions({ path: { project, name } })),
    enabled: enabled && name !== "new",
  });
}

export function usePipelineDiff(name: string, from: number | undefined, to: number | undefined) {
  const project = useSession((s) => s.project);
  return useQuery({
    queryKey: [...keys.versions(project, name), "diff", from, to],
    queryFn: async () =>
      (await unwrap(
        pipelinesDiffVersions({ path: { project, name }, query: { from: from!, to: to! } }),
      )) as VersionDiff,
    enabled: Boolean(from && to && from !== to),
    staleTime: Infinity,
  });
}

function useInvalidatePipeline() {
  const project = useSession((s) => s.project);
  const queries = useQueryClient();
  return (name: string) => {
    void queries.invalidateQueries({ queryKey: keys.pipelines(project) });
    void queries.invalidateQueries({ queryKey: keys.pipeline(project, name) });
    void queries.invalidateQueries({ queryKey: keys.schedules(project) });
  };
}

export function useCreatePipeline() {
  const project = useSession((s) => s.project);
  const invalidate = useInvalidatePipeline();
  return useMutation({
    mutationFn: (draft: PipelineDraft) =>
      unwrap(pipelinesCreatePipeline({ path: { project }, body: body(draft) })),
    onSuccess: (saved) => invalidate(saved.name),
  });
}

export function useSavePipeline() {
  const project = useSession((s) => s.project);
  const invalidate = useInvalidatePipeline();
  return useMutation({
    mutationFn: (draft: PipelineDraft) =>
      unwrap(
        pipelinesSavePipeline({ path: { project, name: draft.spec.name }, body: body(draft) }),
      ),
    onSuccess: (saved) => invalidate(saved.name),
  });
}

/** Check without saving: resolves when valid, throws an ApiError (422, details) when not. */
export function validatePipeline(project: string, spec: PipelineJson, signal?: AbortSignal) {
  return unwrap(pipelinesValidate({ path: { project }, body: body({ spec }), signal }));
}

export function useValidatePipeline() {
  const project = useSession((s) => s.project);
  return useMutation({ mutationFn: (spec: PipelineJson) => validatePipeline(project, spec) });
}

export function useTriggerPipeline() {
  const project = useSession((s) => s.project);
  const queries = useQueryClient();
  return useMutation({
    mutationFn: async (input: { name: string; params?: Record<string, unknown> }) =>
      (await unwrap(
        pipelinesTrigger({
          path: { project, name: input.name },
          body: { params: input.params ?? {} },
        }),
      )) as Triggered,
    onSuccess: () => {
      void queries.invalidateQueries({ queryKey: keys.runs(project) });
      void queries.invalidateQueries({ queryKey: keys.pipelines(project) });
    },
  });
}

export function useDebugTask() {
  const project = useSession((s) => s.project);
  return useMutation({
    mutationFn: async (input: { name: string; task: string }) =>
      (await unwrap(
        pipelinesDebug({ path: { project, name: input.name }, body: { task: input.task } }),
      )) as DebugStarted,
  });
}

/** The next `count` run times of the saved pipeline's schedule (404 when it has none). */
export function useSchedulePreview(name: string | undefined, enabled = true, count = 5) {
  const project = useSession((s) => s.project);
  return useQuery({
    queryKey: [...keys.pipeline(project, name ?? ""), "schedule", count],
    queryFn: async () =>
      (await unwrap(
        pipelinesSchedulePreview({ path: { project, name: name! }, query: { count } }),
      )) as SchedulePreview,
    enabled: enabled && Boolean(name) && name !== "new",
    retry: false,
  });
}

export function useDeletePipeline() {
  const project = useSession((s) => s.project);
  const invalidate = useInvalidatePipeline();
  return useMutation({
    mutationFn: (name: string) =>
      unwrap(pipelinesDeletePipeline({ path: { project, name } })).then(() => name),
    onSuccess: (name) => invalidate(name),
  });
}
