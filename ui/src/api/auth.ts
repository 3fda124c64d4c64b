// The session's user and projects, and logging in.
import { useMutation, useQuery } from "@tanstack/react-query";

import { authLogin, authMe, projectsListProjects } from "../client/sdk.gen";
import { useSession } from "../auth/session";
import { unwrap } from "./http";
import { keys } from "./keys";

export function useMe() {
  const token = useSession((s) => s.token);
  return useQuery({
    queryKey: keys.me,
    queryFn: () => unwrap(authMe()),
    enabled: token !== null,
  });
}

export function useProjects() {
  return useQuery({ queryKey: keys.projects, queryFn: () => unwrap(projectsListProjects()) });
}

export function useLogin() {
  const login = useSession((s) => s.login);
  return useMutation({
    mutationFn: (body: { username: string; password: string }) => unwrap(authLogin({ body })),
    onSuccess: (data) => login(data.access_token),
  });
}
