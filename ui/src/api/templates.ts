// Job templates: the palette's list, one template, its parameter schema (a JSON Schema with
// x-type / x-group / x-order for the form generator), registering one.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";

import {
  templatesDeleteTemplate,
  templatesExportTemplate,
  templatesGetSchema,
  templatesGetTemplate,
  templatesListTemplates,
  templatesListVersions,
  templatesRegisterProjectTemplate,
} from "../client/sdk.gen";
import type { RegisteredOut, TemplateOut, TemplateSummary } from "../client/types.gen";
import { useSession } from "../auth/session";
import { unwrap } from "./http";
import { keys } from "./keys";

export type { RegisteredOut, TemplateOut, TemplateSummary };

/** A template's parameters as JSON Schema (spec/jsonschema.py on the server). */
export interface ParamSchema {
  type?: string | string[];
  title?: string;
  description?: string;
  default?: unknown;
  enum?: unknown[];
  pattern?: string;
  items?: ParamSchema;
  examples?: unknown[];
  "x-type"?: string;
  "x-group"?: string;
  "x-order"?: number;
  [key: string]: unknown;
}
export interface ArgsSchema {
  type: "object";
  properties: Record<string, ParamSchema>;
  required?: string[];
  [key: string]: unknown;
}

export function useTemplates() {
  const project = useSession((s) => s.project);
  return useQuery({
    queryKey: keys.templates(project),
    queryFn: () => unwrap(templatesListTemplates({ query: { project } })),
    staleTime: 30_000,
  });
}

export function useTemplate(name: string | undefined) {
  return useQuery({
    queryKey: keys.template(name ?? ""),
    queryFn: () => unwrap(templatesGetTemplate({ path: { name: name! } })),
    enabled: Boolean(name),
    staleTime: 60_000,
  });
}

export function useTemplateSchema(name: string | undefined, version?: number) {
  return useQuery({
    queryKey: keys.schema(name ?? "", version),
    queryFn: async () =>
      (await unwrap(
        templatesGetSchema({ path: { name: name! }, query: { version } }),
      )) as unknown as ArgsSchema,
    enabled: Boolean(name),
    staleTime: 60_000,
  });
}

export function useRegisterTemplate() {
  const project = useSession((s) => s.project);
  const queries = useQueryClient();
  return useMutation({
    mutationFn: (yaml: string) =>
      unwrap(templatesRegisterProjectTemplate({ path: { project }, body: { yaml } })),
    onSuccess: () => queries.invalidateQueries({ queryKey: keys.templates(project) }),
  });
}

// -- the templates page: versions, the YAML export, deleting a version ---------------------

export type { CubestudioApiRoutesTemplatesVersionOut as TemplateVersion } from "../client/types.gen";

export function useTemplateVersions(name: string | undefined) {
  return useQuery({
    queryKey: [...keys.template(name ?? ""), "versions"],
    queryFn: () => unwrap(templatesListVersions({ path: { name: name! } })),
    enabled: Boolean(name),
  });
}

/** The template as a YAML file (GET /templates/{name}/export, served as application/yaml). */
export function useTemplateExport(name: string | undefined, version?: number) {
  return useQuery({
    queryKey: [...keys.template(name ?? ""), "export", version],
    queryFn: async () =>
      String(
        await unwrap(
          templatesExportTemplate({ path: { name: name! }, query: { version }, parseAs: "text" }),
        ),
      ),
    enabled: Boolean(name),
  });
}

export function useDeleteTemplateVersion() {
  const project = useSession((s) => s.project);
  const queries = useQueryClient();
  return useMutation({
    mutationFn: ({ name, version }: { name: string; version: number }) =>
      unwrap(templatesDeleteTemplate({ path: { name }, query: { version } })),
    onSuccess: (_data, { name }) => {
      void queries.invalidateQueries({ queryKey: keys.templates(project) });
      void queries.invalidateQueries({ queryKey: keys.template(name) });
    },
  });
}
