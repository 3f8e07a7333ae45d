/**
 * A short line diff for messages: the changed lines of two texts as "- old" / "+ new",
 * at most a few, clipped (jsdiff over the lines, as `twelve releases diff` uses).
 */
import { diffArrays } from 'diff';
import { clipText } from '../thread/clip-text.js';

export interface LineDiffOptions {
  /** Changed lines shown (default 6); the rest are counted. */
  maxLines?: number;
  /** Characters per line shown (default 120). */
  maxLineLength?: number;
}

export interface LineDiff {
  /** The first line (1-based) that differs. */
  line: number;
  /** "- old" and "+ new" lines, at most maxLines, then a count of the rest. */
  changes: string[];
}

export function lineDiff(before: string, after: string, options: LineDiffOptions = {}): LineDiff {
  const { maxLines = 6, maxLineLength = 120 } = options;
  const changes: string[] = [];
  let line = 1;
  let first: number | undefined;
  // jsdiff orders a replacement as the removal then the addition: "- old" then "+ new".
  for (const part of diffArrays(before.split('\n'), after.split('\n'))) {
    if (!part.added && !part.removed) {
      line += part.count ?? part.value.length;
      continue;
    }
    first ??= line;
    for (const text of part.value) changes.push(`${part.removed ? '-' : '+'} ${clipText(text, maxLineLength)}`);
    if (part.removed) line += part.count ?? part.value.length;
  }
  const shown = changes.slice(0, maxLines);
  if (changes.length > maxLines) shown.push(`(${changes.length - maxLines} more changed lines)`);
  return { line: first ?? line, changes: shown };
}
