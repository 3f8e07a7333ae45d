/** `--completed-before`: an age (30m, 12h, 30d, 2w) back from now, or an ISO date/time. */
import { TwelveError } from '../errors.js';

const units: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };

/** The cut-off as an ISO time; threads last updated before it may be pruned. */
export function parseCutoff(text: string, now = Date.now()): string {
  const age = /^(\d+)([mhdw])$/.exec(text.trim());
  if (age && Number(age[1]) > 0) return new Date(now - Number(age[1]) * units[age[2]!]!).toISOString();
  if (/^\d{4}-\d{2}-\d{2}/.test(text)) {
    const at = Date.parse(text);
    if (!Number.isNaN(at)) return new Date(at).toISOString();
  }
  throw new TwelveError('usage', `--completed-before must be an age like 30m, 12h, 30d or 2w, or an ISO date like 2026-01-31, got "${text}"`);
}
