// Which project every page shows; the choice is kept across reloads.
import { useQueryClient } from "@tanstack/react-query";

import { useProjects } from "../api/auth";
import { useSession } from "../auth/session";

export function ProjectSwitcher() {
  const project = useSession((s) => s.project);
  const setProject = useSession((s) => s.setProject);
  const projects = useProjects();
  const queries = useQueryClient();
  const names = projects.data?.map((p) => p.name) ?? [project];
  return (
    <label className="project-switcher">
      <span>Project</span>
      <select
        aria-label="Project"
        value={project}
        onChange={(event) => {
          setProject(event.target.value);
          void queries.invalidateQueries();
        }}
      >
        {(names.includes(project) ? names : [project, ...names]).map((name) => (
          <option key={name} value={name}>
            {name}
          </option>
        ))}
      </select>
    </label>
  );
}
