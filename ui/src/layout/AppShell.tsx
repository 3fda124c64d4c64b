// The frame of every page but login: the navigation, the project switcher and the user.
import { Link, Navigate, Outlet } from "@tanstack/react-router";

import { useMe } from "../api/auth";
import { useSession } from "../auth/session";
import { ProjectSwitcher } from "./ProjectSwitcher";

const NAV = [
  { to: "/pipelines", label: "Pipelines" },
  { to: "/runs", label: "Runs" },
  { to: "/schedules", label: "Schedules" },
  { to: "/templates", label: "Templates" },
  { to: "/secrets", label: "Secrets" },
  { to: "/queues", label: "Queues" },
] as const;

export function AppShell() {
  const token = useSession((s) => s.token);
  const logout = useSession((s) => s.logout);
  const me = useMe();
  if (token === null) return <Navigate to="/login" />;
  return (
    <div className="shell">
      <header className="topbar">
        <Link to="/pipelines" className="brand">
          <img src="/favicon.svg" alt="" width={22} height={22} />
          Cube Studio
        </Link>
        <nav className="nav">
          {NAV.map((item) => (
            <Link key={item.to} to={item.to} activeProps={{ className: "active" }}>
              {item.label}
            </Link>
          ))}
        </nav>
        <div className="topbar-right">
          <ProjectSwitcher />
          <span className="user" data-testid="user-name">
            {me.data?.name ?? ""}
          </span>
          <button type="button" className="ghost" onClick={logout}>
            Log out
          </button>
        </div>
      </header>
      <main className="page">
        <Outlet />
      </main>
    </div>
  );
}
