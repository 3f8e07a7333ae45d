/**
 * The audit checks over real sources: one thread of a store, every thread of a store (streamed in
 * keyset pages of events, so 100k events never sit in memory at once), or an export/archive file
 * (export-format.ts, gzipped or not). Each yields a ThreadVerdict per thread (verify.ts).
 */
import { closeSync, createReadStream, openSync, readSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import type { KeyObject } from 'node:crypto';
import { blobOfText } from '../blobs/blob.js';
import { TwelveError } from '../errors.js';
import type { Store } from '../store/types.js';
import type { ThreadEvent } from '../thread/events.js';
import { eventLine, headLine, parseEventLine, redactedExportHeader } from './export-format.js';
import type { AuditHead } from './types.js';
import { verifyThread, type AuditProblem, type ThreadVerdict } from './verify.js';

export async function verifyStoredThread(store: Store, threadId: string, publicKeys: KeyObject[] = []): Promise<ThreadVerdict> {
  const thread = await store.getThread(threadId);
  if (!thread) throw new TwelveError('thread_not_found', `thread ${threadId} does not exist`);
  const [events, heads, chainStartedAt] = await Promise.all([scanThread(store, threadId), store.loadAuditHeads([threadId]), store.chainStartedAt()]);
  return verifyThread({ threadId, events, threadSeq: thread.seq, heads, publicKeys, mustBeHashed: createdAfter(thread.createdAt, chainStartedAt) });
}

/** One thread's events as verify --all reads them (Store.scanEvents: times at full precision). */
async function scanThread(store: Store, threadId: string, pageSize = 5_000): Promise<ThreadEvent[]> {
  const events: ThreadEvent[] = [];
  let after = { threadId, seq: 0 };
  for (;;) {
    const page = await store.scanEvents({ after, limit: pageSize });
    const mine = page.filter((row) => row.threadId === threadId);
    for (const { threadSeq: _seq, threadCreatedAt: _created, ...event } of mine) events.push(event as ThreadEvent);
    if (mine.length < pageSize) return events;
    after = { threadId, seq: mine[mine.length - 1]!.seq };
  }
}

/** Whether a thread created at `createdAt` began after the chain did (so all its events are hashed). */
function createdAfter(createdAt: string, chainStartedAt: string | undefined): boolean {
  return chainStartedAt !== undefined && Date.parse(createdAt) > Date.parse(chainStartedAt);
}

/** Every thread of the store, in thread id order, a page of events at a time. */
export async function* verifyStore(store: Store, options: { publicKeys?: KeyObject[]; pageSize?: number } = {}): AsyncGenerator<ThreadVerdict> {
  const pageSize = options.pageSize ?? 5_000;
  let after: { threadId: string; seq: number } | undefined;
  let current: { threadId: string; threadSeq: number; mustBeHashed: boolean; events: ThreadEvent[] } | undefined;
  const chainStartedAt = await store.chainStartedAt();
  for (;;) {
    const page = await store.scanEvents({ ...(after ? { after } : {}), limit: pageSize });
    const done: Array<NonNullable<typeof current>> = [];
    for (const row of page) {
      if (current && current.threadId !== row.threadId) {
        done.push(current);
        current = undefined;
      }
      const { threadSeq, threadCreatedAt, ...event } = row;
      current ??= { threadId: row.threadId, threadSeq, mustBeHashed: createdAfter(threadCreatedAt, chainStartedAt), events: [] };
      current.events.push(event as ThreadEvent);
    }
    if (page.length < pageSize && current) {
      done.push(current);
      current = undefined;
    }
    const heads = groupHeads(await store.loadAuditHeads(done.map((t) => t.threadId)));
    for (const t of done) yield verifyThread({ ...t, heads: heads.get(t.threadId) ?? [], publicKeys: options.publicKeys ?? [] });
    if (page.length < pageSize) break;
    const last = page[page.length - 1]!;
    after = { threadId: last.threadId, seq: last.seq };
  }
  // What walking the events cannot see: a thread deleted without twelve prune (which deletes its
  // heads with it) leaves its signed heads, or its thread row, behind.
  const orphans = await store.loadAuditOrphans();
  for (const [threadId, heads] of groupHeads(orphans.heads)) {
    const seq = Math.max(...heads.map((h) => h.seq));
    yield { ...emptyVerdict(threadId), problems: [{ threadId, seq: 1, kind: 'deleted', message: `thread deleted: ${heads.length} signed head${heads.length === 1 ? '' : 's'} (up to seq ${seq}) remain but it has no events, and no prune deleted it` }] };
  }
  for (const thread of orphans.threads) {
    if (orphans.heads.some((h) => h.threadId === thread.id)) continue;
    yield { ...emptyVerdict(thread.id), problems: [{ threadId: thread.id, seq: 1, kind: 'deleted', message: `the thread records seq ${thread.seq} but has no events (deleted without a prune)` }] };
  }
}

function emptyVerdict(threadId: string): ThreadVerdict {
  return { threadId, events: 0, covered: 0, notCovered: 0, headsChecked: 0, problems: [] };
}

/** The lines of `twelve audit export`: the thread's events with their links, then its signed heads. */
export async function* exportThreadLines(store: Store, threadId: string): AsyncGenerator<string> {
  if (!(await store.getThread(threadId))) throw new TwelveError('thread_not_found', `thread ${threadId} does not exist`);
  for (const event of await scanThread(store, threadId)) yield eventLine(event);
  for (const head of await store.loadAuditHeads([threadId])) yield headLine(head);
}

/** Every thread of an export or archive file (gzipped or not, by its first bytes), in the order they first appear. */
export async function verifyArchive(path: string, publicKeys: KeyObject[] = []): Promise<ThreadVerdict[]> {
  const events = new Map<string, ThreadEvent[]>();
  const heads: AuditHead[] = [];
  /** Each (thread, seq)'s line as first read: a repeat must be the very same record. */
  const seen = new Map<string, string>();
  const duplicateProblems: AuditProblem[] = [];
  const blobProblems: AuditProblem[] = [];
  const source = createReadStream(path);
  const opened = new Promise<void>((resolve, reject) => {
    source.once('open', () => resolve());
    source.once('error', (error) => reject(new TwelveError('usage', `cannot read ${path}: ${error.message}`)));
  });
  await opened;
  // gzip or not by its first bytes (prune writes gzip whatever the file is called).
  const gzipped = isGzip(path);
  const input = gzipped ? source.pipe(createGunzip()) : source;
  let lineNumber = 0;
  try {
    for await (const line of createInterface({ input, crlfDelay: Infinity })) {
      lineNumber += 1;
      if (!line.trim()) continue;
      let record;
      try {
        record = parseEventLine(line, `${path} line ${lineNumber}`);
      } catch (error) {
        throw new TwelveError('usage', (error as Error).message);
      }
      if (record.kind === 'header') {
        if (record.format === redactedExportHeader.format) throw new TwelveError('usage', `${path} is a redacted export (twelve audit export --redact): it cannot be verified; export without --redact`);
        continue;
      }
      if (record.kind === 'blob') {
        const problem = blobProblem(record.blob);
        if (problem) blobProblems.push({ threadId: '(blobs)', seq: lineNumber, kind: 'blob', message: `line ${lineNumber}: ${problem}` });
        continue;
      }
      if (record.kind === 'head') heads.push(record.head);
      else {
        // A prune run interrupted between archiving and deleting a batch archives it again on the
        // next run: the very same event (thread, seq, link) twice is one event, not an insertion.
        // Two different records for one (thread, seq) is a problem: only one can be what was written.
        const key = `${record.event.threadId}:${record.event.seq}`;
        const written = eventLine(record.event);
        const first = seen.get(key);
        if (first !== undefined) {
          if (first !== written) duplicateProblems.push({ threadId: record.event.threadId, seq: record.event.seq, kind: 'inserted', message: `line ${lineNumber}: a second, different record for seq ${record.event.seq}` });
          continue;
        }
        seen.set(key, written);
        const list = events.get(record.event.threadId) ?? [];
        list.push(record.event);
        events.set(record.event.threadId, list);
      }
    }
  } catch (error) {
    if (error instanceof TwelveError) throw error;
    throw new TwelveError('usage', `${path}: not a readable ${gzipped ? 'gzipped ' : ''}JSON lines file (${(error as Error).message})`);
  }
  const byThread = groupHeads(heads);
  const verdicts = [...events].map(([threadId, list]) => {
    const verdict = verifyThread({ threadId, events: list, heads: byThread.get(threadId) ?? [], publicKeys });
    const duplicates = duplicateProblems.filter((p) => p.threadId === threadId);
    return duplicates.length ? { ...verdict, problems: [...verdict.problems, ...duplicates].sort((a, b) => a.seq - b.seq) } : verdict;
  });
  // Signed heads of a thread none of whose events are in the file: its events were cut out.
  for (const [threadId, list] of byThread) {
    if (events.has(threadId)) continue;
    const seq = Math.max(...list.map((h) => h.seq));
    verdicts.push({ ...emptyVerdict(threadId), problems: [{ threadId, seq: 1, kind: 'deleted', message: `${list.length} signed head${list.length === 1 ? '' : 's'} (up to seq ${seq}) but no events in the file` }] });
  }
  // Blob lines (a prune archive's stored requests and large results) belong to no one thread: their problems come as one more verdict.
  if (blobProblems.length) verdicts.push({ threadId: '(blobs)', events: 0, covered: 0, notCovered: 0, headsChecked: 0, problems: blobProblems });
  return verdicts;
}

function isGzip(path: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const magic = Buffer.alloc(2);
    return readSync(fd, magic, 0, 2, 0) === 2 && magic[0] === 0x1f && magic[1] === 0x8b;
  } finally {
    closeSync(fd);
  }
}

/** What is wrong with an archived blob: its text must hash to its name (and have its size). */
function blobProblem(blob: { hash: string; bytes: number; data: string }): string | undefined {
  const actual = blobOfText(blob.data);
  if (actual.hash !== blob.hash) return `blob ${blob.hash}: its data hashes to ${actual.hash} (edited)`;
  if (actual.bytes !== blob.bytes) return `blob ${blob.hash}: ${actual.bytes} bytes, the line says ${blob.bytes}`;
  return undefined;
}

function groupHeads(heads: AuditHead[]): Map<string, AuditHead[]> {
  const map = new Map<string, AuditHead[]>();
  for (const head of heads) map.set(head.threadId, [...(map.get(head.threadId) ?? []), head]);
  return map;
}
