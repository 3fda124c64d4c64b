// One labelled field: the label (the parameter's name, so tests find the input by it), a
// required mark, a small type tag, the input, and under it the error or the help text.
import type { ReactNode } from "react";

export interface FieldFrameProps {
  id: string;
  label: string;
  required?: boolean;
  kind?: string;
  help?: string;
  error?: string;
  children: ReactNode;
  /** A checkbox sits before its label on one line. */
  inline?: boolean;
}

export function FieldFrame({ id, label, required, kind, help, error, children, inline }: FieldFrameProps) {
  const head = (
    <span className="cf-field-head">
      <label htmlFor={id} id={`${id}-label`}>
        {label}
      </label>
      {required && (
        <span className="cf-required" title="required" aria-hidden="true">
          *
        </span>
      )}
      {kind && <span className="cf-kind">{kind}</span>}
    </span>
  );
  return (
    <div className={`cf-field${inline ? " cf-inline" : ""}${error ? " cf-has-error" : ""}`}>
      {inline ? (
        <div className="cf-inline-row">
          {children}
          {head}
        </div>
      ) : (
        <>
          {head}
          {children}
        </>
      )}
      {error && (
        <p className="error cf-error" id={`${id}-error`}>
          {error}
        </p>
      )}
      {help && (
        <p className="hint cf-help" id={`${id}-help`}>
          {help}
        </p>
      )}
    </div>
  );
}

/** The ids an input points at for its description (error first, then help). */
export function describedBy(id: string, error?: string, help?: string): string | undefined {
  const ids = [error && `${id}-error`, help && `${id}-help`].filter(Boolean);
  return ids.length ? ids.join(" ") : undefined;
}
