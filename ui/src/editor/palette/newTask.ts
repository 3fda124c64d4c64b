// A new task from a template (named after it, with the defaults of its parameter schema and
// its resources) or a plain command task: pure, so it is easy to test.
import type { ArgsSchema, TemplateOut } from "../../api/templates";
import type { ResourcesJson, TaskJson } from "../types";

export const COMMAND_ENTRY = "command";
export const TEMPLATE_ENTRY = "template:";

/** The default of every parameter that has one. */
export function defaultArgs(schema: ArgsSchema | undefined): Record<string, unknown> {
  const args: Record<string, unknown> = {};
  for (const [name, param] of Object.entries(schema?.properties ?? {})) {
    if (param.default !== undefined && param.default !== null) {
      args[name] = structuredClone(param.default);
    }
  }
  return args;
}

export function templateResources(template: TemplateOut | undefined): ResourcesJson | undefined {
  const given = template?.template.resources;
  if (!given) return undefined;
  const resources: ResourcesJson = {};
  if (given.cpu !== undefined && given.cpu !== null) resources.cpu = given.cpu;
  if (given.memory !== undefined && given.memory !== null) resources.memory = memoryText(given.memory);
  if (given.gpu) resources.gpu = given.gpu;
  return Object.keys(resources).length ? resources : undefined;
}

/** Bytes as the spec writes them: "2Gi", "512Mi", or the plain number. */
export function memoryText(bytes: number): string {
  for (const [unit, size] of [["Ti", 2 ** 40], ["Gi", 2 ** 30], ["Mi", 2 ** 20], ["Ki", 2 ** 10]] as const) {
    if (bytes >= size && bytes % size === 0) return `${bytes / size}${unit}`;
  }
  return String(bytes);
}

export function taskFromTemplate(
  name: string,
  template: TemplateOut | undefined,
  schema: ArgsSchema | undefined,
): TaskJson {
  const task: TaskJson = { name, template: name };
  const args = defaultArgs(schema);
  if (Object.keys(args).length) task.args = args;
  const resources = templateResources(template);
  if (resources) task.resources = resources;
  return task;
}

export function commandTask(): TaskJson {
  return { name: "command", command: 'echo "hello from {{ pipeline.name }}"' };
}
