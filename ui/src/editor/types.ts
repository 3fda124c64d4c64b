// The pipeline format as JSON (the server's spec/model.py; what GET …/pipelines/{name} returns
// as `spec` and PUT accepts), and the editor's extras saved beside it as `layout`.
// Shared by the editor, its forms and the run view: change with care.

export interface ResourcesJson {
  cpu?: number | string;
  memory?: string;
  gpu?: number;
  [key: string]: unknown;
}

export interface TaskJson {
  name: string;
  description?: string;
  command?: string | string[];
  template?: string;
  args?: Record<string, unknown>;
  depends?: string[];
  env?: Record<string, unknown>;
  retries?: number;
  retry_delay?: number | string;
  timeout?: number | string | null;
  resources?: ResourcesJson;
  skip?: boolean;
  trigger?: string;
  outputs?: unknown[];
  inputs?: unknown[];
  workdir?: string;
  [key: string]: unknown;
}

export interface ScheduleJson {
  cron: string;
  timezone?: string;
  start?: string;
  catchup?: boolean;
  depends_on_past?: boolean;
  max_active_runs?: number;
  expired_limit?: number | null;
  [key: string]: unknown;
}

export interface PipelineJson {
  name: string;
  description?: string;
  params?: Record<string, unknown>;
  env?: Record<string, unknown>;
  parallelism?: number;
  timeout?: number | string | null;
  schedule?: ScheduleJson | null;
  tasks: TaskJson[];
  on_exit?: TaskJson | null;
  alerts?: unknown[];
  [key: string]: unknown;
}

export interface XY {
  x: number;
  y: number;
}

export interface NoteJson {
  id: string;
  text: string;
  position: XY;
  width?: number;
  height?: number;
}

/** Saved as the version's `layout`: where each task sits on the canvas, and the notes. */
export interface LayoutJson {
  positions: Record<string, XY>;
  notes: NoteJson[];
}

/** Problems by field path, as the server names them ("tasks.train.args.lr", "schedule.cron"). */
export type FieldErrors = Record<string, string>;
