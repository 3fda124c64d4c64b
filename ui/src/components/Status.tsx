// A run's or task's status as a coloured dot and its word; the colours are in styles.css.
export function Status({ status }: { status: string | null | undefined }) {
  const value = status ?? "pending";
  return (
    <span
      className={`status status-${value}`}
      data-status={value}
      style={{ ["--status-color" as string]: `var(--status-${value}, var(--status-pending))` }}
    >
      {value.replace("_", " ")}
    </span>
  );
}
