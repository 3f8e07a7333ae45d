/**
 * A cost report's question as people type it (`--by day,agent --since 7d`, `?by=day&since=7d`),
 * parsed once for the CLI and the API, with errors that name the flag or parameter and the value.
 */
import { TwelveError } from '../errors.js';
import { parseAgeOrDate } from '../util/age-or-date.js';
import { costDimensions, type CostDimension, type CostReportOptions } from './types.js';

export interface CostQueryText {
  by?: string | undefined;
  since?: string | undefined;
  until?: string | undefined;
  agent?: string | undefined;
  tenant?: string | undefined;
}

/**
 * `by` defaults to agent; since/until take an age before now (30min, 24h, 7d, 2w) or an ISO time
 * (2026-01-31, 2026-01-31T12:00:00Z). `name` says how the caller spells them ('--' or '').
 */
export function parseCostQuery(text: CostQueryText, { prefix = '--', now = Date.now() }: { prefix?: string; now?: number } = {}): CostReportOptions {
  const by = parseBy(text.by ?? 'agent', prefix);
  const since = text.since === undefined ? undefined : parseTime(text.since, `${prefix}since`, now);
  const until = text.until === undefined ? undefined : parseTime(text.until, `${prefix}until`, now);
  if (since !== undefined && until !== undefined && since >= until) {
    throw new TwelveError('usage', `${prefix}since (${since}) must be before ${prefix}until (${until})`);
  }
  return {
    by,
    ...(since !== undefined ? { since } : {}),
    ...(until !== undefined ? { until } : {}),
    ...(text.agent ? { agent: text.agent } : {}),
    ...(text.tenant ? { tenant: text.tenant } : {}),
  };
}

function parseBy(text: string, prefix: string): CostDimension[] {
  const parts = text.split(',').map((part) => part.trim());
  const bad = parts.filter((part) => !(costDimensions as readonly string[]).includes(part));
  if (bad.length > 0 || parts.length > 2 || new Set(parts).size !== parts.length) {
    throw new TwelveError('usage', `${prefix}by must be one or two of ${costDimensions.join(', ')} (e.g. day,agent), got "${text}"`);
  }
  return parts as CostDimension[];
}

/** An age before `now` or an ISO date/time, as an ISO UTC time (the form events' times are compared in). */
export function parseTime(text: string, name: string, now = Date.now()): string {
  return parseAgeOrDate(text, name, now);
}
