// Validation as you type: ~400 ms after the last edit the server checks the pipeline
// (POST …/pipelines/validate, the messages of `cube validate`); its problems are sorted onto
// the nodes and the fields.
import { useEffect } from "react";

import { ApiError } from "../api/http";
import { validatePipeline } from "../api/pipelines";
import { useSession } from "../auth/session";
import { noErrors, sortErrors } from "./fieldErrors";
import { useMeta } from "./meta";
import { useEditor } from "./store";

export const VALIDATE_DELAY_MS = 400;
/** A new pipeline has no name before its first save: the server checks it under this one
 * (an empty name would stop the check there, hiding every task's problems). */
export const UNNAMED = "unnamed-pipeline";

export function useLiveValidation() {
  const project = useSession((s) => s.project);
  const pipeline = useEditor((s) => s.pipeline);
  const ready = useMeta((s) => s.key !== "");
  useEffect(() => {
    if (!ready) return;
    const set = useMeta.getState().set;
    if (pipeline.tasks.length === 0 && !pipeline.name) {
      set({ errors: noErrors() });
      return;
    }
    const abort = new AbortController();
    const timer = setTimeout(() => {
      const checked = pipeline.name ? pipeline : { ...pipeline, name: UNNAMED };
      validatePipeline(project, checked, abort.signal).then(
        () => set({ errors: noErrors() }),
        (err: unknown) => {
          if (abort.signal.aborted) return;
          if (err instanceof ApiError && err.status === 422) {
            const details = err.details.length ? err.details : [{ field: err.field, message: err.message }];
            set({ errors: sortErrors(details, pipeline) });
          }
        },
      );
    }, VALIDATE_DELAY_MS);
    return () => {
      clearTimeout(timer);
      abort.abort();
    };
  }, [project, pipeline, ready]);
}
