// A note on the canvas: free text, edited in place (every change is an undoable edit).
import type { NodeProps } from "@xyflow/react";
import { memo } from "react";

import type { NoteNode as NoteNodeType } from "../graph";
import { useEditor } from "../store";

function NoteNodeView({ data, selected }: NodeProps<NoteNodeType>) {
  const updateNote = useEditor((s) => s.updateNote);
  const { note } = data;
  return (
    <div className={`note-node${selected ? " selected" : ""}`} data-testid={`note-${note.id}`}>
      <div className="note-node-grip" title="drag to move">
        note
      </div>
      <textarea
        className="nodrag nowheel"
        aria-label="note text"
        placeholder="Write a note…"
        value={note.text}
        onChange={(event) => updateNote(note.id, { text: event.target.value })}
      />
    </div>
  );
}

export const NoteNode = memo(NoteNodeView);
