// The project's pipelines as a table, one PipelineRow each.
import type { PipelineRow as Row } from "../../api/pipelineList";
import { PipelineRow } from "./PipelineRow";

export function PipelinesTable({ pipelines }: { pipelines: Row[] }) {
  return (
    <table className="list pipelines-table" data-testid="pipelines-table">
      <thead>
        <tr>
          <th>Name</th>
          <th>Description</th>
          <th>Version</th>
          <th>Last run</th>
          <th>Schedule</th>
          <th className="actions">Actions</th>
        </tr>
      </thead>
      <tbody>
        {pipelines.map((p) => (
          <PipelineRow key={p.id} pipeline={p} />
        ))}
      </tbody>
    </table>
  );
}
