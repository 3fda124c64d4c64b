// Times as people read them in a list: "5 min ago", "3 d ago", with the exact time on hover.
const UNITS: [number, string][] = [
  [60, "s"],
  [60, "min"],
  [24, "h"],
  [30, "d"],
  [12, "mo"],
];

export function timeAgo(iso: string, now: number = Date.now()): string {
  const then = new Date(iso).getTime();
  if (Number.isNaN(then)) return iso;
  let amount = Math.max(0, Math.round((now - then) / 1000));
  if (amount < 10) return "just now";
  for (const [size, unit] of UNITS) {
    if (amount < size) return `${amount} ${unit} ago`;
    amount = Math.floor(amount / size);
  }
  return `${amount} y ago`;
}

export function exactTime(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
}
