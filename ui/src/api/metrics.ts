// Resource monitoring: a run's metrics (each sampled attempt's latest values, peaks and
// series; refetched every 2 s while the run is active) and right-sizing a pipeline's requests
// (the preview with its evidence, and applying it as a new version).
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";

import {
  monitoringRightsizeApply,
  monitoringRightsizePreview,
  monitoringRunMetrics,
} from "../client/sdk.gen";
import type {
  AttemptMetrics,
  Evidence,
  RightsizeOut,
  RunMetrics,
  Series,
  TaskAdviceOut,
} from "../client/types.gen";
import { useSession } from "../auth/session";
import { RUN_ENDED } from "../run/format";
import { unwrap } from "./http";
import { keys } from "./keys";
import { useRun } from "./runs";

export type { AttemptMetrics, Evidence, RightsizeOut, RunMetrics, Series, TaskAdviceOut };

export const METRICS_EVERY_MS = 2_000;

/** The run's metrics; polled while the run is active, read once more when it ends. */
export function useRunMetrics(runId: string) {
  const project = useSession((s) => s.project);
  const run = useRun(runId);
  const status = run.data?.status;
  const ended = status !== undefined && RUN_ENDED.has(status);
  return useQuery({
    // `ended` in the key: the run's end fetches the final samples once, then polling stops.
    queryKey: [...keys.run(project, runId), "metrics", { ended }],
    queryFn: () => unwrap(monitoringRunMetrics({ path: { project, run_id: runId } })),
    enabled: Boolean(runId) && status !== undefined,
    refetchInterval: ended ? false : METRICS_EVERY_MS,
    placeholderData: (previous) => previous,
  });
}

const rightsizeKey = (project: string, name: string) =>
  [...keys.pipeline(project, name), "rightsize"] as const;

/** The suggested requests of each task of the pipeline, from its last succeeded runs. */
export function useRightsizePreview(name: string) {
  const project = useSession((s) => s.project);
  return useQuery({
    queryKey: rightsizeKey(project, name),
    queryFn: () => unwrap(monitoringRightsizePreview({ path: { project, name }, body: {} })),
  });
}

/** Save the pipeline's next version with the suggested requests (`applied_version` null:
 * nothing changed). */
export function useApplyRightsize(name: string) {
  const project = useSession((s) => s.project);
  const queries = useQueryClient();
  return useMutation({
    mutationFn: () => unwrap(monitoringRightsizeApply({ path: { project, name }, body: {} })),
    onSuccess: () => {
      // The list's version, the editor's pipeline and the preview (under the pipeline's key).
      void queries.invalidateQueries({ queryKey: keys.pipelines(project) });
      void queries.invalidateQueries({ queryKey: keys.pipeline(project, name) });
    },
  });
}
