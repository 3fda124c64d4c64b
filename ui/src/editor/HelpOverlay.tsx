// The "?" overlay: every keyboard shortcut of the editor.
import { SHORTCUTS } from "./shortcuts";

export function HelpOverlay({ onClose }: { onClose: () => void }) {
  return (
    <div className="overlay" role="dialog" aria-label="Keyboard shortcuts" onClick={onClose}>
      <div className="card overlay-card" onClick={(event) => event.stopPropagation()}>
        <div className="row">
          <h2>Keyboard shortcuts</h2>
          <span className="spacer" />
          <button type="button" className="ghost" aria-label="Close" onClick={onClose}>
            ✕
          </button>
        </div>
        <table className="list shortcuts" data-testid="shortcuts">
          <tbody>
            {SHORTCUTS.map((s) => (
              <tr key={s.keys}>
                <td>
                  <kbd>{s.keys}</kbd>
                </td>
                <td>{s.what}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <p className="hint">On a Mac, ⌘ works wherever Ctrl is written.</p>
      </div>
    </div>
  );
}
