/**
 * Writing and reading a prune archive (.jsonl.gz). Each batch is appended as its own gzip
 * member (concatenated members are one valid gzip stream: zcat and zlib read them as one) and
 * fsynced before the batch's threads are deleted, so a crash never loses an event that is no
 * longer in the database. A crash after the write but before the delete leaves the threads in
 * place; the next run archives them again, so an archive can hold the same event twice: the
 * reader drops repeats (same thread, seq and hash).
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, readSync, statSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { TwelveError } from '../errors.js';
import type { ArchivedEvent } from '../store/types.js';
import { archiveHeader, eventLine, parseEventLine } from './archive-format.js';

/** Appends one batch of events (and the header, when the file is new) and fsyncs it. */
export function appendArchiveBatch(path: string, events: ArchivedEvent[]): void {
  const isNew = !existsSync(path) || statSync(path).size === 0;
  if (!isNew) checkGzip(path);
  const lines = events.map(eventLine);
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
  lines.slice(1).forEach((line, index) => {
    let event: ArchivedEvent;
    try {
      event = parseEventLine(line);
    } catch (error) {
      throw new TwelveError('usage', `${path}, line ${index + 2}: ${(error as Error).message}`);
    }
    const key = `${event.threadId}\n${event.seq}\n${event.hash ?? ''}`;
    if (seen.has(key)) return;
    seen.add(key);
    events.push(event);
  });
  return events;
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
