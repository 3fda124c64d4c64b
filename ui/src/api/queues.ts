// Queues (src/cubestudio/api/routes/queues.py): the machine's pool, what is free of it, and
// each project's queue (its capability, weight, usage and counts), read again every few
// seconds; and changing a queue (platform admins only).
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";

import { queuesChangeQueue, queuesListQueues } from "../client/sdk.gen";
import type { QueueChange, QueueOut, QueueReport, QueueSettings, Usage } from "../client/types.gen";
import { unwrap } from "./http";

export type { QueueChange, QueueOut, QueueReport, QueueSettings, Usage };

export const QUEUES_EVERY_MS = 5_000;
const queuesKey = ["queues"] as const;

export function useQueues() {
  return useQuery({
    queryKey: queuesKey,
    queryFn: () => unwrap(queuesListQueues()),
    refetchInterval: QUEUES_EVERY_MS,
  });
}

/** Change one project's queue; the fields given change ("none": no limit). */
export function useChangeQueue(project: string) {
  const queries = useQueryClient();
  return useMutation({
    mutationFn: (body: QueueChange) => unwrap(queuesChangeQueue({ path: { project }, body })),
    onSuccess: () => void queries.invalidateQueries({ queryKey: queuesKey }),
  });
}
