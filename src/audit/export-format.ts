/**
 * The audit export format, shared by `twelve audit export --format jsonl` and `twelve prune
 * --archive` (gzipped), and read back by `twelve audit verify --archive`: JSON lines, one record
 * per line, in the order written (a thread's events by seq; threads one after another).
 *
 * An event line is the event as stored, with its chain link:
 *   {"threadId":"t1","seq":1,"type":"thread_started","at":"2026-...Z","releaseId":"r...","data":{...},"hash":"ab12..."}
 * `hash` is null for an event written before the chain existed. A signed chain head covering the
 * thread (see types.ts AuditHead) is a line of its own:
 *   {"head":{"id":"...","threadId":"t1","seq":40,"hash":"...","signature":"...","keyId":"...","signedAt":"..."}}
 * A prune archive's first line is a header ({"format":"twelve-archive","version":1}), skipped by readers.
 * A prune archive also carries the blobs its events name (stored requests, large tool results),
 * each once per file, on lines of their own ("data" is the blob's exact text; verify checks it hashes to "hash"):
 *   {"blob":{"hash":"sha256:...","bytes":1234,"data":"{\"format\":\"twelve.request/2\",...}"}}
 * Anything else is refused with the line number. Verification needs nothing but these lines and,
 * for the heads, the public key (audit/verify.ts).
 */
import type { ThreadEvent } from '../thread/events.js';
import type { AuditHead } from './types.js';

export type ExportRecord =
  | { kind: 'event'; event: ThreadEvent }
  | { kind: 'head'; head: AuditHead }
  | { kind: 'header'; format: string; version: unknown }
  | { kind: 'blob'; blob: { hash: string; bytes: number; data: string } };

/** The first line of `twelve audit export --redact`: a copy for sharing, which verify refuses. */
export const redactedExportHeader = { format: 'twelve-export-redacted', version: 1, note: 'redacted with TWELVE_REDACT_PATTERNS: the hash chain does not verify' } as const;

/** One event's line (no trailing newline). */
export function eventLine(event: ThreadEvent): string {
  const { threadId, seq, type, at, releaseId, data } = event;
  return JSON.stringify({ threadId, seq, type, at, releaseId, data, hash: event.hash ?? null });
}

/** One signed head's line (no trailing newline). */
export function headLine(head: AuditHead): string {
  const { id, threadId, seq, hash, signature, keyId, signedAt } = head;
  return JSON.stringify({ head: { id, threadId, seq, hash, signature, keyId, signedAt } });
}

/** Parses one line; `where` (e.g. "archive.jsonl.gz line 12") names it in the error. Throws on anything malformed. */
export function parseEventLine(line: string, where = 'line'): ExportRecord {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    throw new Error(`${where}: not JSON (${(error as Error).message})`);
  }
  if (!isObject(value)) throw new Error(`${where}: expected a JSON object`);
  // A prune archive starts with a header line ({"format":"twelve-archive","version":1}: retention/archive-format.ts).
  if (typeof value.format === 'string' && !('threadId' in value)) return { kind: 'header', format: value.format, version: value.version };
  if ('blob' in value) {
    const blob = value.blob;
    if (!isObject(blob)) throw new Error(`${where}: "blob" must be an object`);
    if (typeof blob.hash !== 'string' || typeof blob.data !== 'string') throw new Error(`${where}: blob.hash and blob.data must be strings`);
    if (typeof blob.bytes !== 'number' || !Number.isInteger(blob.bytes) || blob.bytes < 0) throw new Error(`${where}: blob.bytes must be a whole number`);
    return { kind: 'blob', blob: { hash: blob.hash, bytes: blob.bytes, data: blob.data } };
  }
  if ('head' in value) {
    const head = value.head;
    if (!isObject(head)) throw new Error(`${where}: "head" must be an object`);
    for (const key of ['id', 'threadId', 'hash', 'signature', 'keyId', 'signedAt'] as const) {
      if (typeof head[key] !== 'string') throw new Error(`${where}: head.${key} must be a string`);
    }
    if (!isSeq(head.seq)) throw new Error(`${where}: head.seq must be a positive integer`);
    return { kind: 'head', head: head as unknown as AuditHead };
  }
  for (const key of ['threadId', 'type', 'at', 'releaseId'] as const) {
    if (typeof value[key] !== 'string') throw new Error(`${where}: ${key} must be a string`);
  }
  if (!isSeq(value.seq)) throw new Error(`${where}: seq must be a positive integer`);
  if (!('data' in value)) throw new Error(`${where}: data is missing`);
  if (value.hash !== null && value.hash !== undefined && typeof value.hash !== 'string') throw new Error(`${where}: hash must be a string or null`);
  const { threadId, seq, type, at, releaseId, data } = value;
  return { kind: 'event', event: { threadId, seq, type, at, releaseId, data, hash: (value.hash as string | null | undefined) ?? null } as ThreadEvent };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isSeq(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value > 0;
}
