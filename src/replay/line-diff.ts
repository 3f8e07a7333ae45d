/**
 * A short line diff for messages: the changed lines of two texts as "- old" / "+ new",
 * at most a few, clipped. Longest common subsequence over lines; prompts are small.
 */
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
  const a = before.split('\n');
  const b = after.split('\n');
  // Common prefix and suffix first: a prompt edit usually touches a few lines in the middle.
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  const x = a.slice(start, endA);
  const y = b.slice(start, endB);
  const lcs: number[][] = Array.from({ length: x.length + 1 }, () => new Array<number>(y.length + 1).fill(0));
  for (let i = x.length - 1; i >= 0; i--) {
    for (let j = y.length - 1; j >= 0; j--) lcs[i]![j] = x[i] === y[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
  }
  const changes: string[] = [];
  let i = 0;
  let j = 0;
  while (i < x.length || j < y.length) {
    if (i < x.length && j < y.length && x[i] === y[j]) {
      i++;
      j++;
    } else if (i < x.length && (j === y.length || lcs[i + 1]![j]! >= lcs[i]![j + 1]!)) {
      // Removals first: a replaced line reads "- old" then "+ new".
      changes.push(`- ${clipText(x[i++]!, maxLineLength)}`);
    } else {
      changes.push(`+ ${clipText(y[j++]!, maxLineLength)}`);
    }
  }
  const shown = changes.slice(0, maxLines);
  if (changes.length > maxLines) shown.push(`(${changes.length - maxLines} more changed lines)`);
  return { line: start + 1, changes: shown };
}
