/** `--completed-before`: an age (30min, 12h, 30d, 2w) back from now, or an ISO date/time (util/age-or-date.ts). */
import { parseAgeOrDate } from '../util/age-or-date.js';

/** The cut-off as an ISO time; threads last updated before it may be pruned. */
export function parseCutoff(text: string, now = Date.now()): string {
  return parseAgeOrDate(text, '--completed-before', now);
}
