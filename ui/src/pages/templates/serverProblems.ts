// The server's 422 details (field paths such as `parameters[1].default`) placed on the
// builder's fields; what has no field in the form is listed above it.
import type { FieldProblem } from "../../api/http";
import type { Problems } from "./builderYaml";

const TOP = new Set(["name", "category", "description", "image", "command"]);
const PARAM = /^(parameters\[\d+\])(?:\.(\w+))?/;
const ON_ROW = new Set(["name", "default", "choices"]);

export function placeServerProblems(details: FieldProblem[]): { fields: Problems; general: string[] } {
  const fields: Problems = {};
  const general: string[] = [];
  for (const d of details) {
    const path = d.field ?? "";
    const param = PARAM.exec(path);
    let key: string | null = null;
    if (TOP.has(path)) key = path;
    else if (!path && d.message.startsWith("command")) key = "command"; // the command's own check
    else if (param) key = param[2] && ON_ROW.has(param[2]) ? `${param[1]}.${param[2]}` : param[1];
    if (key === null) general.push(path ? `${path}: ${d.message}` : d.message);
    else fields[key] = fields[key] ? `${fields[key]}; ${d.message}` : d.message;
  }
  return { fields, general };
}
