/**
 * Writing and reading a prune archive (.jsonl.gz). Each batch is appended as its own gzip
 * member (concatenated members are one valid gzip stream: zcat and zlib read them as one) and
 * fsynced before the batch's threads are deleted, so a crash never loses an event that is no
 * longer in the database. A crash after the write but before the delete leaves the threads in
 * place; the next run archives them again, so an archive can hold the same event twice: the
 * reader drops repeats (same thread, seq and hash). A batch's member starts with the blobs its
 * events name that the file does not hold yet (each blob once per file; a re-run may repeat one).
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, readSync, statSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { NewBlob } from '../blobs/blob.js';
import { TwelveError } from '../errors.js';
import type { RequestReader } from '../model/request-record.js';
import type { ArchivedEvent } from '../store/types.js';
import type { AuditHead } from '../audit/types.js';
import { archiveHeader, blobLine, eventLine, headLine, parseArchiveLine } from './archive-format.js';

/** Appends one batch of blobs, events and signed heads (and the header, when the file is new) and fsyncs it. */
export function appendArchiveBatch(path: string, events: ArchivedEvent[], blobs: NewBlob[] = [], heads: AuditHead[] = []): void {
  const isNew = !existsSync(path) || statSync(path).size === 0;
  if (!isNew) checkGzip(path);
  const lines = [...blobs.map(blobLine), ...events.map(eventLine), ...heads.map(headLine)];
  if (isNew) lines.unshift(JSON.stringify(archiveHeader));
  if (lines.length === 0) return;
  const fd = openSync(path, 'a');
  try {
    writeSync(fd, gzipSync(`${lines.join('\n')}\n`));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  // A new file's directory entry must survive a power loss too, before anything is deleted.
  if (isNew) fsyncDirectory(dirname(path));
}

/** Every event in an archive, repeats (from a re-run after a crash) dropped, in file order. */
export function readArchive(path: string): ArchivedEvent[] {
  return readArchiveFile(path).events;
}

/** The blobs an archive holds, by hash (as written: audit verify --archive checks their hashes). */
export function readArchiveBlobs(path: string): Map<string, NewBlob> {
  return readArchiveFile(path).blobs;
}

/** The archive's blobs as a blob store to read a pruned thread's requests back from (model/request-record.ts loadRequest). */
export function archiveRequestReader(path: string): RequestReader {
  const { events, blobs } = readArchiveFile(path);
  // A request kept with its event is archived as a blob line under the event's request.ref.
  const requests = new Map<string, Array<{ seq: number; text: string }>>();
  for (const e of events) {
    const ref = (e.data as { request?: { ref?: unknown } } | null)?.request?.ref;
    const text = typeof ref === 'string' ? blobs.get(ref)?.data : undefined;
    if ((e.type !== 'model_called' && e.type !== 'model_failed') || text === undefined || !text.startsWith('{"format":"twelve.request/3"')) continue;
    const list = requests.get(e.threadId) ?? [];
    list.push({ seq: e.seq, text });
    requests.set(e.threadId, list);
  }
  return {
    getBlob: async (hash) => blobs.get(hash),
    getBlobs: async (hashes) => hashes.flatMap((hash) => blobs.get(hash) ?? []),
    loadRequests: async (threadId, upToSeq, limit) =>
      (requests.get(threadId) ?? [])
        .filter((r) => r.seq <= upToSeq)
        .sort((a, b) => b.seq - a.seq)
        .slice(0, limit),
  };
}

/** The hashes of the blobs an existing archive already holds (none when the file is new), so a run appending to it does not write them again. */
export function archivedBlobHashes(path: string): Set<string> {
  if (!existsSync(path) || statSync(path).size === 0) return new Set();
  checkGzip(path);
  return new Set(readArchiveFile(path).blobs.keys());
}

function readArchiveFile(path: string): { events: ArchivedEvent[]; blobs: Map<string, NewBlob> } {
  let text: string;
  try {
    text = gunzipSync(readFileSync(path)).toString('utf8');
  } catch (error) {
    throw new TwelveError('usage', `${path} is not a readable Twelve archive (${(error as Error).message})`);
  }
  const lines = text.split('\n').filter((line) => line.length > 0);
  const header = lines.length ? (JSON.parse(lines[0]!) as { format?: string; version?: number }) : {};
  if (header.format !== archiveHeader.format) throw new TwelveError('usage', `${path} is not a Twelve archive (its first line is not a ${archiveHeader.format} header)`);
  if (header.version !== archiveHeader.version) throw new TwelveError('usage', `${path} is a version ${header.version} archive; this Twelve reads version ${archiveHeader.version}`);
  const seen = new Set<string>();
  const events: ArchivedEvent[] = [];
  const blobs = new Map<string, NewBlob>();
  lines.slice(1).forEach((line, index) => {
    let record: ReturnType<typeof parseArchiveLine>;
    try {
      record = parseArchiveLine(line);
    } catch (error) {
      throw new TwelveError('usage', `${path}, line ${index + 2}: ${(error as Error).message}`);
    }
    if (record.kind === 'blob') {
      blobs.set(record.blob.hash, record.blob);
      return;
    }
    if (record.kind === 'head') return;
    const event = record.event;
    const key = `${event.threadId}\n${event.seq}\n${event.hash ?? ''}`;
    if (seen.has(key)) return;
    seen.add(key);
    events.push(event);
  });
  return { events, blobs };
}

function checkGzip(path: string): void {
  const fd = openSync(path, 'r');
  const magic = Buffer.alloc(2);
  try {
    readSync(fd, magic, 0, 2, 0);
  } finally {
    closeSync(fd);
  }
  if (magic[0] !== 0x1f || magic[1] !== 0x8b) throw new TwelveError('usage', `--archive ${path} exists and is not a gzip file: refusing to append to it`);
}

function fsyncDirectory(path: string): void {
  try {
    const fd = openSync(path, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // Some platforms cannot open a directory for fsync; the file itself was synced.
  }
}
