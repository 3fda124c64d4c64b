export function PipelinesPage() {
  return <h1>PipelinesPage</h1>;
}
