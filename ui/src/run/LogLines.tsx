// The lines of a log: numbered, monospace, matches of the search highlighted, and kept
// scrolled to the end while "follow" is on (scrolling up turns it off).
import { useLayoutEffect, useMemo, useRef, useState } from "react";

export interface LogLinesProps {
  lines: string[];
  search?: string;
  /** The number of the first line shown (lines before it were dropped). */
  firstNumber: number;
  /** The log is still being written: offer to follow it. */
  live: boolean;
  empty: string;
}

/** The search as a JS pattern: the server takes a Python regex, mostly the same; a plain
 * substring when it does not compile here. */
export function searchPattern(search: string | undefined): RegExp | null {
  if (!search) return null;
  try {
    return new RegExp(search, "g");
  } catch {
    return new RegExp(search.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"), "g");
  }
}

export function highlight(line: string, pattern: RegExp | null): (string | React.ReactElement)[] {
  if (!pattern) return [line];
  const parts: (string | React.ReactElement)[] = [];
  let last = 0;
  pattern.lastIndex = 0;
  for (const match of line.matchAll(pattern)) {
    if (match[0] === "") continue;
    const at = match.index ?? 0;
    if (at > last) parts.push(line.slice(last, at));
    parts.push(<mark key={at}>{match[0]}</mark>);
    last = at + match[0].length;
  }
  if (last < line.length) parts.push(line.slice(last));
  return parts;
}

export function LogLines({ lines, search, firstNumber, live, empty }: LogLinesProps) {
  const box = useRef<HTMLDivElement>(null);
  const [follow, setFollow] = useState(true);
  const pattern = useMemo(() => searchPattern(search), [search]);

  useLayoutEffect(() => {
    const el = box.current;
    if (follow && el) el.scrollTop = el.scrollHeight;
  }, [lines, follow]);

  const onScroll = () => {
    const el = box.current;
    if (!el) return;
    const atEnd = el.scrollHeight - el.scrollTop - el.clientHeight < 24;
    if (!atEnd && follow) setFollow(false);
  };

  return (
    <div className="log-view">
      {live && (
        <label className="log-follow">
          <input
            type="checkbox"
            checked={follow}
            onChange={(e) => setFollow(e.target.checked)}
            aria-label="follow the log"
          />
          follow
        </label>
      )}
      <div className="log-lines mono" ref={box} onScroll={onScroll} data-testid="log-lines">
        {lines.length === 0 ? (
          <div className="log-empty">{empty}</div>
        ) : (
          lines.map((line, i) => (
            <div className="log-line" key={firstNumber + i}>
              {!search && <span className="log-no">{firstNumber + i}</span>}
              <span className="log-text">{highlight(line, pattern)}</span>
            </div>
          ))
        )}
      </div>
    </div>
  );
}
