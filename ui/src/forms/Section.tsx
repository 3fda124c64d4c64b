// A collapsible part of a settings panel. Its body stays mounted when closed (fields keep
// their half-typed text); a closed section with errors shows a mark on its header.
import { useState, type ReactNode } from "react";

export function Section(props: {
  title: string;
  children: ReactNode;
  defaultOpen?: boolean;
  invalid?: boolean;
  summary?: ReactNode;
  testId?: string;
}) {
  const [open, setOpen] = useState(props.defaultOpen ?? true);
  return (
    <section className="cf-section" data-testid={props.testId}>
      <h3 className="cf-section-title">
        <button type="button" className="ghost" aria-expanded={open} onClick={() => setOpen(!open)}>
          <span className={`cf-caret${open ? " open" : ""}`} aria-hidden="true">
            ▸
          </span>
          {props.title}
          {props.invalid && <span className="cf-dot" title="has problems" />}
        </button>
        {!open && props.summary && <span className="hint cf-section-summary">{props.summary}</span>}
      </h3>
      <div className="cf-section-body" hidden={!open}>
        {props.children}
      </div>
    </section>
  );
}
