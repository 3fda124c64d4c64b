// Test helpers: render a page inside a memory router and a fresh query client, and a
// generated-client result as the SDK functions give it.
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import {
  createMemoryHistory,
  createRootRoute,
  createRoute,
  createRouter,
  Outlet,
  RouterProvider,
} from "@tanstack/react-router";
import { render } from "@testing-library/react";
import type { ReactNode } from "react";

export function renderPage(path: string, Page: () => ReactNode) {
  window.scrollTo = () => undefined; // the router restores scroll; jsdom has no layout
  const root = createRootRoute({ component: Outlet });
  const page = createRoute({ getParentRoute: () => root, path, component: Page });
  const editor = createRoute({
    getParentRoute: () => root,
    path: "/pipelines/$name",
    component: () => <p>editor</p>,
  });
  const run = createRoute({
    getParentRoute: () => root,
    path: "/runs/$runId",
    component: () => <p>run view</p>,
  });
  const router = createRouter({
    routeTree: root.addChildren([page, editor, run]),
    history: createMemoryHistory({ initialEntries: [path] }),
  });
  const queries = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  const view = render(
    <QueryClientProvider client={queries}>
      <RouterProvider router={router} />
    </QueryClientProvider>,
  );
  return { ...view, router };
}

/** What a generated SDK call resolves to. */
export function answer<T>(data: T, status = 200) {
  return Promise.resolve({
    data,
    error: undefined,
    response: new Response(null, { status: status === 204 ? 204 : status }),
  });
}

export function refusal(status: number, message: string, field: string | null = null) {
  return Promise.resolve({
    data: undefined,
    error: { error: { code: "x", message, field, details: [] } },
    response: new Response(null, { status }),
  });
}
