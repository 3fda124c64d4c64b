// Query keys, one place: what an event or a mutation invalidates is found here.
export const keys = {
  me: ["me"] as const,
  projects: ["projects"] as const,
  pipelines: (project: string) => ["pipelines", project] as const,
  pipeline: (project: string, name: string) => ["pipeline", project, name] as const,
  version: (project: string, name: string, version: number) =>
    ["pipeline", project, name, "version", version] as const,
  versions: (project: string, name: string) => ["pipeline", project, name, "versions"] as const,
  schedules: (project: string) => ["schedules", project] as const,
  runs: (project: string) => ["runs", project] as const,
  run: (project: string, id: string) => ["run", project, id] as const,
  templates: (project: string) => ["templates", project] as const,
  template: (name: string) => ["template", name] as const,
  schema: (name: string, version?: number) => ["template", name, "schema", version] as const,
  secrets: (project: string) => ["secrets", project] as const,
};
