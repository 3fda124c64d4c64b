// The login session: the bearer token and the chosen project, kept in localStorage so a
// reload stays logged in. Components read them through useSession (a zustand store).
import { create } from "zustand";

const TOKEN_KEY = "cube.token";
const PROJECT_KEY = "cube.project";

export interface Session {
  token: string | null;
  project: string;
  login: (token: string) => void;
  logout: () => void;
  setProject: (project: string) => void;
}

export const useSession = create<Session>((set) => ({
  token: localStorage.getItem(TOKEN_KEY),
  project: localStorage.getItem(PROJECT_KEY) ?? "default",
  login: (token) => {
    localStorage.setItem(TOKEN_KEY, token);
    set({ token });
  },
  logout: () => {
    localStorage.removeItem(TOKEN_KEY);
    set({ token: null });
  },
  setProject: (project) => {
    localStorage.setItem(PROJECT_KEY, project);
    set({ project });
  },
}));

/** The token outside React (the API client's interceptor). */
export function currentToken(): string | null {
  return useSession.getState().token;
}
