// A small SVG line-and-area chart of values over time: x from the first to the last time,
// y from 0 to `max` (the largest value when not given). No axes of its own: ResourceChart
// writes the labels around it. One point draws a flat line; none draws nothing.
export interface Point {
  /** Milliseconds (any origin). */
  t: number;
  v: number;
}

export interface SparklineProps {
  points: Point[];
  max?: number;
  width?: number;
  height?: number;
  label: string;
  color?: string;
}

/** The SVG path of the line through `points`, scaled into width x height (y down). */
export function linePath(points: Point[], max: number, width: number, height: number): string {
  if (points.length === 0) return "";
  const top = max > 0 ? max : 1;
  const y = (v: number) => round(height - (Math.min(Math.max(v, 0), top) / top) * height);
  if (points.length === 1) return `M0,${y(points[0].v)} L${width},${y(points[0].v)}`;
  const t0 = points[0].t;
  const span = points[points.length - 1].t - t0;
  const x = (t: number, i: number) =>
    round(span > 0 ? ((t - t0) / span) * width : (i / (points.length - 1)) * width);
  return points.map((p, i) => `${i === 0 ? "M" : "L"}${x(p.t, i)},${y(p.v)}`).join(" ");
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}

export function Sparkline({
  points,
  max,
  width = 220,
  height = 56,
  label,
  color = "var(--accent)",
}: SparklineProps) {
  const top = max ?? Math.max(0, ...points.map((p) => p.v));
  const line = linePath(points, top, width, height);
  return (
    <svg
      className="sparkline"
      viewBox={`0 0 ${width} ${height}`}
      preserveAspectRatio="none"
      role="img"
      aria-label={label}
      data-testid="sparkline"
    >
      <line x1={0} y1={height - 0.5} x2={width} y2={height - 0.5} className="sparkline-axis" />
      <line x1={0} y1={0.5} x2={width} y2={0.5} className="sparkline-grid" />
      {line && (
        <>
          <path
            d={`${line} L${width},${height} L0,${height} Z`}
            fill={color}
            fillOpacity={0.12}
            stroke="none"
            data-testid="sparkline-area"
          />
          <path
            d={line}
            fill="none"
            stroke={color}
            strokeWidth={1.5}
            vectorEffect="non-scaling-stroke"
            strokeLinejoin="round"
            data-testid="sparkline-line"
          />
        </>
      )}
    </svg>
  );
}
