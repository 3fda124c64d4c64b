// The problems no field of a panel shows (about the whole task or pipeline, an unknown
// field): listed at its top with their paths, so no message of the server is lost.
export function LeftoverErrors({ items }: { items: [string, string][] }) {
  if (items.length === 0) return null;
  return (
    <ul className="error-box cf-leftover" data-testid="panel-errors">
      {items.map(([path, message]) => (
        <li key={path}>
          {path && path !== "_" ? <code>{path}</code> : null} {message}
        </li>
      ))}
    </ul>
  );
}
