/**
 * The prune archive's line format: gzip JSON lines, a header line {format: "twelve-archive",
 * version: 1} then one event per line with its hash chain link, exactly as stored (never
 * redacted: `twelve audit verify --archive` recomputes the chain over these bytes' meaning).
 * The same shape as the audit export's lines (src/audit/export-format.ts, on its own branch):
 * the integrator points eventLine/parseEventLine at that module and keeps only the header here.
 */
import type { ArchivedEvent } from '../store/types.js';

export const archiveHeader = { format: 'twelve-archive', version: 1 } as const;

/** One event, one line: {threadId, seq, type, at, releaseId, data, hash}. */
export function eventLine(event: ArchivedEvent): string {
  return JSON.stringify({ threadId: event.threadId, seq: event.seq, type: event.type, at: event.at, releaseId: event.releaseId, data: event.data, hash: event.hash });
}

/** Parses one event line; a line that is not one throws, naming what is missing. */
export function parseEventLine(line: string): ArchivedEvent {
  const value = JSON.parse(line) as Record<string, unknown>;
  for (const key of ['threadId', 'seq', 'type', 'at', 'releaseId'] as const) {
    if (value[key] === undefined) throw new Error(`not an archived event: no "${key}"`);
  }
  return { threadId: value.threadId, seq: value.seq, type: value.type, at: value.at, releaseId: value.releaseId, data: value.data, hash: value.hash ?? null } as ArchivedEvent;
}
