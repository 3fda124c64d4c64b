// The names of the project's secrets (GET /projects/{project}/secrets), offered where an
// env variable takes its value from one. Fetched only when asked for; none when the user
// may not list them (viewers).
import { useQuery } from "@tanstack/react-query";

import { keys } from "../api/keys";
import { unwrap } from "../api/http";
import { useSession } from "../auth/session";
import { secretsListSecrets } from "../client/sdk.gen";

export function useSecretNames(enabled: boolean): string[] {
  const project = useSession((s) => s.project);
  const query = useQuery({
    // Under the secrets key, so that setting or deleting a secret refreshes these names too.
    queryKey: [...keys.secrets(project), "names"],
    queryFn: async () => (await unwrap(secretsListSecrets({ path: { project } }))).map((s) => s.name),
    enabled,
    staleTime: 30_000,
    retry: false,
  });
  return query.data ?? [];
}
