// The pages and their URLs (TanStack Router, routes in code). Every page but /login sits in
// the AppShell, which sends a visitor without a session to /login.
import {
  createRootRoute,
  createRoute,
  createRouter,
  Outlet,
  redirect,
} from "@tanstack/react-router";

import { AppShell } from "./layout/AppShell";
import { EditorPage } from "./editor/EditorPage";
import { LoginPage } from "./pages/LoginPage";
import { PipelinesPage } from "./pages/PipelinesPage";
import { QueuesPage } from "./pages/QueuesPage";
import { RunsPage } from "./pages/RunsPage";
import { SchedulesPage } from "./pages/SchedulesPage";
import { SecretsPage } from "./pages/SecretsPage";
import { TemplatesPage } from "./pages/TemplatesPage";
import { RunPage } from "./run/RunPage";

const root = createRootRoute({ component: Outlet });
const login = createRoute({ getParentRoute: () => root, path: "/login", component: LoginPage });
const shell = createRoute({ getParentRoute: () => root, id: "shell", component: AppShell });
const home = createRoute({
  getParentRoute: () => shell,
  path: "/",
  beforeLoad: () => {
    throw redirect({ to: "/pipelines" });
  },
});
const pipelines = createRoute({
  getParentRoute: () => shell,
  path: "/pipelines",
  component: PipelinesPage,
});
const editor = createRoute({
  getParentRoute: () => shell,
  path: "/pipelines/$name",
  component: EditorPage,
});
const runs = createRoute({
  getParentRoute: () => shell,
  path: "/runs",
  component: RunsPage,
  validateSearch: (search: Record<string, unknown>): RunsSearch => ({
    pipeline: typeof search.pipeline === "string" ? search.pipeline : undefined,
    status: typeof search.status === "string" ? search.status : undefined,
    trigger: typeof search.trigger === "string" ? search.trigger : undefined,
    since: typeof search.since === "string" ? search.since : undefined,
    until: typeof search.until === "string" ? search.until : undefined,
  }),
});
const run = createRoute({ getParentRoute: () => shell, path: "/runs/$runId", component: RunPage });
const schedules = createRoute({
  getParentRoute: () => shell,
  path: "/schedules",
  component: SchedulesPage,
});
const templates = createRoute({
  getParentRoute: () => shell,
  path: "/templates",
  component: TemplatesPage,
});
const secrets = createRoute({ getParentRoute: () => shell, path: "/secrets", component: SecretsPage });
const queues = createRoute({ getParentRoute: () => shell, path: "/queues", component: QueuesPage });

export interface RunsSearch {
  pipeline?: string;
  status?: string;
  trigger?: string;
  /** Created on or after this day (YYYY-MM-DD, local). */
  since?: string;
  /** Created on or before this day (YYYY-MM-DD, local). */
  until?: string;
}

const tree = root.addChildren([
  login,
  shell.addChildren([
    home,
    pipelines,
    editor,
    runs,
    run,
    schedules,
    templates,
    secrets,
    queues,
  ]),
]);

export const router = createRouter({ routeTree: tree, defaultPreload: "intent" });

declare module "@tanstack/react-router" {
  interface Register {
    router: typeof router;
  }
}
