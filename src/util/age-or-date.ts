/**
 * A point in time as people type it on the command line and in query strings: an age back from
 * now (30min, 24h, 7d, 2w) or an ISO date or time (2026-01-31, 2026-01-31T12:00:00Z). A bare `m`
 * is refused (minutes or months?), and so is a date that is not on the calendar (2026-02-30 is
 * not March 2).
 */
import { TwelveError } from '../errors.js';

const units: Record<string, number> = { min: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };

/** The time as an ISO UTC string; `name` (e.g. "--since") names the flag in errors. */
export function parseAgeOrDate(text: string, name: string, now = Date.now()): string {
  const trimmed = text.trim();
  const expected = `${name} must be an age like 30min, 24h, 7d or 2w, or an ISO date or time like 2026-01-31 or 2026-01-31T12:00:00Z, got "${text}"`;
  if (/^-\d/.test(trimmed)) throw new TwelveError('usage', `${name} takes an age back from now without a sign (e.g. ${trimmed.slice(1)}), got "${text}"`);
  if (/^\d+m$/.test(trimmed)) throw new TwelveError('usage', `${name}: "${trimmed}" is ambiguous (minutes or months?): write ${trimmed.slice(0, -1)}min for minutes, or ${Number(trimmed.slice(0, -1)) * 30}d`);
  const age = /^(\d+)(min|h|d|w)$/.exec(trimmed);
  if (age) {
    if (Number(age[1]) === 0) throw new TwelveError('usage', `${name} must be an age above zero, got "${text}"`);
    return new Date(now - Number(age[1]) * units[age[2]!]!).toISOString();
  }
  const iso = /^(\d{4})-(\d{2})-(\d{2})([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.exec(trimmed);
  if (!iso) throw new TwelveError('usage', expected);
  const [year, month, day] = [Number(iso[1]), Number(iso[2]), Number(iso[3])];
  const calendar = new Date(Date.UTC(year, month - 1, day));
  if (calendar.getUTCFullYear() !== year || calendar.getUTCMonth() !== month - 1 || calendar.getUTCDate() !== day) {
    throw new TwelveError('usage', `${name}: ${iso[1]}-${iso[2]}-${iso[3]} is not a date on the calendar, got "${text}"`);
  }
  const at = Date.parse(trimmed.length === 10 ? `${trimmed}T00:00:00Z` : trimmed);
  if (Number.isNaN(at)) throw new TwelveError('usage', expected);
  return new Date(at).toISOString();
}
