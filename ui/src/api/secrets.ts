// Project secrets by name: list, set (create or replace), delete. No route ever answers a
// value, and none of these hooks keeps one: the value goes out in the PUT body and is dropped.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";

import { secretsDeleteSecret, secretsListSecrets, secretsSetSecret } from "../client/sdk.gen";
import type { SecretOut } from "../client/types.gen";
import { useSession } from "../auth/session";
import { unwrap } from "./http";
import { keys } from "./keys";

export type { SecretOut };

export function useSecrets() {
  const project = useSession((s) => s.project);
  return useQuery({
    queryKey: keys.secrets(project),
    queryFn: () => unwrap(secretsListSecrets({ path: { project } })),
    retry: false, // a viewer's 403 is an answer, not a failure to retry
  });
}

export function useSetSecret() {
  const project = useSession((s) => s.project);
  const queries = useQueryClient();
  return useMutation({
    mutationFn: ({ name, value }: { name: string; value: string }) =>
      unwrap(secretsSetSecret({ path: { project, name }, body: { value } })),
    onSuccess: () => queries.invalidateQueries({ queryKey: keys.secrets(project) }),
  });
}

export function useDeleteSecret() {
  const project = useSession((s) => s.project);
  const queries = useQueryClient();
  return useMutation({
    mutationFn: (name: string) => unwrap(secretsDeleteSecret({ path: { project, name } })),
    onSuccess: () => queries.invalidateQueries({ queryKey: keys.secrets(project) }),
  });
}
