// The "Resources" section of a run's task: CPU and memory (RSS of the process tree) of its
// attempt over time, with the latest value and the peak; GPU utilisation and memory only
// where a GPU was seen. Polled every 2 s while the run is active (useRunMetrics).
import { useRunMetrics, type AttemptMetrics } from "../api/metrics";
import { formatDuration } from "./format";
import { Sparkline, type Point } from "./Sparkline";
import { formatBytes, formatPercent } from "./units";

export interface ResourceChartsProps {
  runId: string;
  task: string;
  /** The task's latest attempt number (0: none yet). */
  attempt: number;
}

export function ResourceCharts({ runId, task, attempt }: ResourceChartsProps) {
  const metrics = useRunMetrics(runId);
  const entry = pickAttempt(metrics.data?.tasks ?? [], task, attempt);
  return (
    <section className="resources" data-testid="resources" aria-label="Resources">
      <h3>
        Resources
        {entry && (
          <span className="hint">
            {" "}
            · attempt {entry.attempt} · {entry.samples} {entry.samples === 1 ? "sample" : "samples"}
          </span>
        )}
      </h3>
      {metrics.isError && <p className="error">resources: {metrics.error.message}</p>}
      {entry ? (
        <AttemptCharts entry={entry} />
      ) : (
        !metrics.isError && (
          <p className="hint" data-testid="resources-empty">
            {metrics.isPending
              ? "Loading…"
              : "No samples yet (a task shorter than about a second may have none)."}
          </p>
        )
      )}
    </section>
  );
}

/** The attempt shown: the task's latest one when it was sampled, else its latest sampled. */
export function pickAttempt(
  tasks: AttemptMetrics[],
  task: string,
  attempt: number,
): AttemptMetrics | undefined {
  const own = tasks.filter((t) => t.task === task);
  return own.find((t) => t.attempt === attempt) ?? own.sort((a, b) => b.attempt - a.attempt)[0];
}

function AttemptCharts({ entry }: { entry: AttemptMetrics }) {
  const { series, peak } = entry;
  const times = series.at.map((at) => Date.parse(at));
  const points = (values: (number | null)[]): Point[] =>
    values.flatMap((v, i) => (v === null || Number.isNaN(times[i]) ? [] : [{ t: times[i], v }]));
  const cpu = points(series.cpu_percent);
  const rss = points(series.rss_bytes);
  const gpuUtil = points(series.gpu_util_percent);
  const gpuMem = points(series.gpu_mem_bytes);
  const span = times.length > 1 ? (times[times.length - 1] - times[0]) / 1000 : 0;
  const live = entry.status === "running";
  return (
    <div className="resource-charts">
      <ResourceChart
        id="cpu"
        title="CPU"
        points={cpu}
        current={entry.cpu_percent}
        peak={peak.cpu_percent}
        top={Math.max(100, peak.cpu_percent, ...cpu.map((p) => p.v))}
        format={formatPercent}
        span={span}
        live={live}
        color="var(--accent)"
      />
      <ResourceChart
        id="memory"
        title="Memory (RSS)"
        points={rss}
        current={entry.rss_bytes}
        peak={peak.rss_bytes}
        top={Math.max(peak.rss_bytes, ...rss.map((p) => p.v))}
        format={formatBytes}
        span={span}
        live={live}
        color="#0891b2"
      />
      {(peak.gpu_util_percent !== null || gpuUtil.length > 0) && (
        <ResourceChart
          id="gpu-util"
          title="GPU utilisation"
          points={gpuUtil}
          current={entry.gpu_util_percent}
          peak={peak.gpu_util_percent}
          top={Math.max(100, peak.gpu_util_percent ?? 0, ...gpuUtil.map((p) => p.v))}
          format={formatPercent}
          span={span}
          live={live}
          color="#16a34a"
        />
      )}
      {(peak.gpu_mem_bytes !== null || gpuMem.length > 0) && (
        <ResourceChart
          id="gpu-memory"
          title="GPU memory"
          points={gpuMem}
          current={entry.gpu_mem_bytes}
          peak={peak.gpu_mem_bytes}
          top={Math.max(peak.gpu_mem_bytes ?? 0, ...gpuMem.map((p) => p.v))}
          format={formatBytes}
          span={span}
          live={live}
          color="#d97706"
        />
      )}
    </div>
  );
}

interface ResourceChartProps {
  id: string;
  title: string;
  points: Point[];
  current: number | null;
  peak: number | null;
  top: number;
  format: (value: number) => string;
  span: number;
  live: boolean;
  color: string;
}

function ResourceChart(props: ResourceChartProps) {
  const { id, title, points, current, peak, top, format, span, live, color } = props;
  return (
    <figure className="resource-chart" data-testid={`chart-${id}`}>
      <figcaption>
        <span className="chart-head">
          <strong>{title}</strong>
          {peak !== null && (
            <span className="chart-peak" data-testid={`peak-${id}`}>
              peak {format(peak)}
            </span>
          )}
        </span>
        <span className="hint" data-testid={`current-${id}`}>
          {current !== null ? `${live ? "now" : "last"} ${format(current)}` : "no value"}
        </span>
      </figcaption>
      <div className="chart-plot">
        <span className="chart-top">{format(top)}</span>
        <Sparkline points={points} max={top} label={`${title} over time`} color={color} />
      </div>
      <div className="chart-x">
        <span>0 s</span>
        <span>{span > 0 ? formatDuration(span) : "one sample"}</span>
      </div>
    </figure>
  );
}
