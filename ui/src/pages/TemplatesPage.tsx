export function TemplatesPage() {
  return <h1>TemplatesPage</h1>;
}
