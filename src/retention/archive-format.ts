/**
 * The prune archive's line format: gzip JSON lines, a header line {format: "twelve-archive",
 * version: 1} then one event per line with its hash chain link, exactly as stored (never
 * redacted: `twelve audit verify --archive` recomputes the chain over them). The event lines are
 * the audit export's (src/audit/export-format.ts), so one reader verifies both. Blob lines carry
 * the blobs those events name (stored requests with their bases and tools, large tool results),
 * so what the model saw survives the prune. Head lines carry the pruned threads' signed chain
 * heads (the export's), so verify --archive still catches a cut tail.
 */
import type { NewBlob } from '../blobs/blob.js';
import { eventLine as exportLine, headLine as exportHeadLine, parseEventLine as parseExportLine } from '../audit/export-format.js';
import type { AuditHead } from '../audit/types.js';
import type { ThreadEvent } from '../thread/events.js';
import type { ArchivedEvent } from '../store/types.js';

export const archiveHeader = { format: 'twelve-archive', version: 1 } as const;

/** One event, one line: {threadId, seq, type, at, releaseId, data, hash}. */
export function eventLine(event: ArchivedEvent): string {
  return exportLine(event as unknown as ThreadEvent);
}

/** One blob, one line: {blob: {hash, bytes, data}}. */
export function blobLine(blob: NewBlob): string {
  return JSON.stringify({ blob: { hash: blob.hash, bytes: blob.bytes, data: blob.data } });
}

/** One signed head, one line: {head: {id, threadId, seq, hash, signature, keyId, signedAt}}. */
export function headLine(head: AuditHead): string {
  return exportHeadLine(head);
}

/** Parses one event line; a line that is not one throws, naming what is wrong. */
export function parseEventLine(line: string): ArchivedEvent {
  const record = parseArchiveLine(line);
  if (record.kind !== 'event') throw new Error(`not an archived event (a ${record.kind} line)`);
  return record.event;
}

/** Parses any line after the header: an event, a blob (whose hash is not checked here: audit verify does) or a signed head. */
export function parseArchiveLine(line: string): { kind: 'event'; event: ArchivedEvent } | { kind: 'blob'; blob: NewBlob } | { kind: 'head'; head: AuditHead } {
  const record = parseExportLine(line);
  if (record.kind === 'blob' || record.kind === 'head') return record;
  if (record.kind !== 'event') throw new Error(`not an archived event, blob or head (a ${record.kind} line)`);
  return { kind: 'event', event: { ...record.event, hash: record.event.hash ?? null } as unknown as ArchivedEvent };
}
