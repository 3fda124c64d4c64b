// The settings of the selected note: its text, and removing it.
import { isNoteId, NOTE_PREFIX } from "../graph";
import { useEditor } from "../store";

export function NotePanel({ id }: { id: string }) {
  const noteKey = isNoteId(id) ? id.slice(NOTE_PREFIX.length) : id;
  const note = useEditor((s) => s.layout.notes.find((n) => n.id === noteKey));
  const updateNote = useEditor((s) => s.updateNote);
  const remove = useEditor((s) => s.remove);
  if (!note) return null;
  return (
    <div className="panel-section">
      <h2>Note</h2>
      <label>
        Text
        <textarea
          rows={8}
          value={note.text}
          onChange={(event) => updateNote(note.id, { text: event.target.value })}
        />
      </label>
      <div className="row" style={{ marginTop: 12 }}>
        <button type="button" className="danger" onClick={() => remove([id])}>
          Delete note
        </button>
      </div>
    </div>
  );
}
