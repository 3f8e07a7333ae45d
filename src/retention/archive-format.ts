/**
 * The prune archive's line format: gzip JSON lines, a header line {format: "twelve-archive",
 * version: 1} then one event per line with its hash chain link, exactly as stored (never
 * redacted: `twelve audit verify --archive` recomputes the chain over them). The event lines are
 * the audit export's (src/audit/export-format.ts), so one reader verifies both.
 */
import { eventLine as exportLine, parseEventLine as parseExportLine } from '../audit/export-format.js';
import type { ThreadEvent } from '../thread/events.js';
import type { ArchivedEvent } from '../store/types.js';

export const archiveHeader = { format: 'twelve-archive', version: 1 } as const;

/** One event, one line: {threadId, seq, type, at, releaseId, data, hash}. */
export function eventLine(event: ArchivedEvent): string {
  return exportLine(event as unknown as ThreadEvent);
}

/** Parses one event line; a line that is not one throws, naming what is wrong. */
export function parseEventLine(line: string): ArchivedEvent {
  const record = parseExportLine(line);
  if (record.kind !== 'event') throw new Error(`not an archived event (a ${record.kind} line)`);
  return { ...record.event, hash: record.event.hash ?? null } as unknown as ArchivedEvent;
}
