// Schedules: the project's applied schedules (`cube schedule list --json`), switching one off
// and back on as it was applied, and a pipeline's schedule records (execution date, status,
// run). The routes have no response models: their shapes are typed here.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";

import {
  pipelinesDisableSchedule,
  pipelinesListSchedules,
  pipelinesUnpauseSchedule,
  schedulesListRecords,
} from "../client/sdk.gen";
import { useSession } from "../auth/session";
import { unwrap } from "./http";
import { keys } from "./keys";

/** One applied schedule (schedule/registry.py list_schedules); times UTC ISO 8601. */
export interface ScheduleInfo {
  pipeline: string;
  cron: string;
  timezone: string;
  catchup: boolean;
  paused: boolean;
  start: string | null;
  planned_through: string | null;
  next: string | null;
}

/** One schedule record (schedule/records.py pipeline_records). */
export interface ScheduleRecord {
  execution_date: string;
  status: string;
  trigger: string;
  run_id: string | null;
  run_status: string | null;
  message: string | null;
}

export function useSchedules() {
  const project = useSession((s) => s.project);
  return useQuery({
    queryKey: keys.schedules(project),
    queryFn: async () =>
      (await unwrap(pipelinesListSchedules({ path: { project } }))) as unknown as ScheduleInfo[],
    refetchInterval: 30_000, // `next` moves on as time passes
  });
}

export function useScheduleRecords(pipeline: string, limit = 50) {
  const project = useSession((s) => s.project);
  return useQuery({
    queryKey: [...keys.schedules(project), "records", pipeline, limit],
    queryFn: async () =>
      (await unwrap(
        schedulesListRecords({ path: { project, name: pipeline }, query: { limit } }),
      )) as unknown as ScheduleRecord[],
  });
}

/** Pause a schedule, or switch it back on as it was applied. */
export function useSchedulePaused() {
  const project = useSession((s) => s.project);
  const queries = useQueryClient();
  return useMutation({
    mutationFn: ({ pipeline, paused }: { pipeline: string; paused: boolean }) => {
      const call = paused ? pipelinesDisableSchedule : pipelinesUnpauseSchedule;
      return unwrap(call({ path: { project, name: pipeline } }));
    },
    // Pending until the list is fetched again, so a switch never flips back in between.
    onSettled: () =>
      Promise.all([
        queries.invalidateQueries({ queryKey: keys.schedules(project) }),
        queries.invalidateQueries({ queryKey: keys.pipelines(project) }),
      ]),
  });
}
