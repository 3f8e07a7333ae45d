/**
 * The audit checks over real sources: one thread of a store, every thread of a store (streamed in
 * keyset pages of events, so 100k events never sit in memory at once), or an export/archive file
 * (export-format.ts, gzipped or not). Each yields a ThreadVerdict per thread (verify.ts).
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import type { KeyObject } from 'node:crypto';
import { blobOfText } from '../blobs/blob.js';
import { TwelveError } from '../errors.js';
import type { Store } from '../store/types.js';
import type { ThreadEvent } from '../thread/events.js';
import { eventLine, headLine, parseEventLine } from './export-format.js';
import type { AuditHead } from './types.js';
import { verifyThread, type AuditProblem, type ThreadVerdict } from './verify.js';

export async function verifyStoredThread(store: Store, threadId: string, publicKeys: KeyObject[] = []): Promise<ThreadVerdict> {
  const thread = await store.getThread(threadId);
  if (!thread) throw new TwelveError('thread_not_found', `thread ${threadId} does not exist`);
  const [events, heads] = await Promise.all([store.loadEvents(threadId), store.loadAuditHeads([threadId])]);
  return verifyThread({ threadId, events, threadSeq: thread.seq, heads, publicKeys });
}

/** Every thread of the store, in thread id order, a page of events at a time. */
export async function* verifyStore(store: Store, options: { publicKeys?: KeyObject[]; pageSize?: number } = {}): AsyncGenerator<ThreadVerdict> {
  const pageSize = options.pageSize ?? 5_000;
  let after: { threadId: string; seq: number } | undefined;
  let current: { threadId: string; threadSeq: number; events: ThreadEvent[] } | undefined;
  for (;;) {
    const page = await store.scanEvents({ ...(after ? { after } : {}), limit: pageSize });
    const done: Array<NonNullable<typeof current>> = [];
    for (const row of page) {
      if (current && current.threadId !== row.threadId) {
        done.push(current);
        current = undefined;
      }
      const { threadSeq, ...event } = row;
      current ??= { threadId: row.threadId, threadSeq, events: [] };
      current.events.push(event as ThreadEvent);
    }
    if (page.length < pageSize && current) {
      done.push(current);
      current = undefined;
    }
    const heads = groupHeads(await store.loadAuditHeads(done.map((t) => t.threadId)));
    for (const t of done) yield verifyThread({ ...t, heads: heads.get(t.threadId) ?? [], publicKeys: options.publicKeys ?? [] });
    if (page.length < pageSize) return;
    const last = page[page.length - 1]!;
    after = { threadId: last.threadId, seq: last.seq };
  }
}

/** The lines of `twelve audit export`: the thread's events with their links, then its signed heads. */
export async function* exportThreadLines(store: Store, threadId: string): AsyncGenerator<string> {
  if (!(await store.getThread(threadId))) throw new TwelveError('thread_not_found', `thread ${threadId} does not exist`);
  for (const event of await store.loadEvents(threadId)) yield eventLine(event);
  for (const head of await store.loadAuditHeads([threadId])) yield headLine(head);
}

/** Every thread of an export or archive file (.gz: gunzipped), in the order they first appear. */
export async function verifyArchive(path: string, publicKeys: KeyObject[] = []): Promise<ThreadVerdict[]> {
  const events = new Map<string, ThreadEvent[]>();
  const heads: AuditHead[] = [];
  const seen = new Set<string>();
  const blobProblems: AuditProblem[] = [];
  const source = createReadStream(path);
  const opened = new Promise<void>((resolve, reject) => {
    source.once('open', () => resolve());
    source.once('error', (error) => reject(new TwelveError('usage', `cannot read ${path}: ${error.message}`)));
  });
  await opened;
  const gzipped = path.endsWith('.gz');
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
      if (record.kind === 'header') continue;
      if (record.kind === 'blob') {
        const problem = blobProblem(record.blob);
        if (problem) blobProblems.push({ threadId: '(blobs)', seq: lineNumber, kind: 'blob', message: `line ${lineNumber}: ${problem}` });
        continue;
      }
      if (record.kind === 'head') heads.push(record.head);
      else {
        // A prune run interrupted between archiving and deleting a batch archives it again on the
        // next run: the very same event (thread, seq, link) twice is one event, not an insertion.
        const key = `${record.event.threadId}:${record.event.seq}:${record.event.hash ?? ''}`;
        if (seen.has(key)) continue;
        seen.add(key);
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
  const verdicts = [...events].map(([threadId, list]) => verifyThread({ threadId, events: list, heads: byThread.get(threadId) ?? [], publicKeys }));
  // Blob lines (a prune archive's stored requests and large results) belong to no one thread: their problems come as one more verdict.
  if (blobProblems.length) verdicts.push({ threadId: '(blobs)', events: 0, covered: 0, notCovered: 0, headsChecked: 0, problems: blobProblems });
  return verdicts;
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
