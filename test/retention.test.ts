/**
 * Retention: `twelve prune` archives, then deletes, finished threads older than a cut-off, in
 * batches, on a real SQLite file through the real CLI; the archive keeps every event with its
 * chain link, and what is not finished (or too recent) stays.
 */
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { withHeadSigning } from '../src/audit/head-signer.js';
import { parseSigningKey } from '../src/audit/signing.js';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.js';
import { event } from '../src/thread/events.js';
import type { ThreadStatus } from '../src/thread/state.js';
import { appendArchiveBatch, readArchive } from '../src/retention/archive-file.js';
import { parseCutoff } from '../src/retention/cutoff.js';
import { runCli } from './support/cli.js';
import { tempDir } from './support/temp-dir.js';

const summary = { modelSteps: 0, inputTokens: 0, outputTokens: 0, costUsd: 0 };
const old = '2020-01-01T00:00:00.000Z';

/** A database with finished and unfinished threads, some last updated in 2020. */
async function seed(dir: string) {
  const path = join(dir, 'twelve.db');
  const store = new SqliteStore({ path });
  const ids: Record<string, string[]> = { oldFinished: [], oldRunning: [], recentFinished: [] };
  const make = async (group: string, n: number, status: ThreadStatus) => {
    for (let i = 0; i < n; i++) {
      const id = `th_${group}_${i}`;
      await store.createThread({ id, agent: i % 2 ? 'refunds' : 'triage', releaseId: 'rel_one', input: `input ${i}`, events: [event('thread_started', { agent: 'refunds', input: `input ${i}`, metadata: {} })], summary: { ...summary, status: 'runnable' } });
      if (status !== 'runnable') await store.append(id, 1, 'rel_one', [event('thread_completed', { output: `out ${i}` })], { ...summary, status });
      ids[group]!.push(id);
    }
  };
  await make('oldFinished', 5, 'completed');
  await make('oldRunning', 2, 'runnable');
  await make('recentFinished', 2, 'failed');
  await store.close();
  // Age some threads: the store stamps updated_at with the time of the append.
  const db = new Database(path);
  db.prepare(`UPDATE threads SET updated_at = ? WHERE id IN (SELECT value FROM json_each(?))`).run(old, JSON.stringify([...ids.oldFinished!, ...ids.oldRunning!]));
  db.close();
  return { path, ids, env: { TWELVE_DATABASE_URL: `sqlite:${path}` } };
}

function threadIds(path: string): string[] {
  const db = new Database(path, { readonly: true });
  try {
    return (db.prepare(`SELECT id FROM threads ORDER BY id`).pluck().all() as string[]);
  } finally {
    db.close();
  }
}

describe('twelve prune', () => {
  it('refuses to delete without an archive or --delete-only, and says what a bad flag is', async () => {
    const dir = tempDir();
    const { path, env } = await seed(dir);
    const bare = await runCli(['prune', '--completed-before', '30d'], { env });
    expect(bare.code).toBe(2);
    expect(bare.stderr).toContain('--archive <file.jsonl.gz>');
    expect(bare.stderr).toContain('--delete-only');
    const noPath = await runCli(['prune', '--completed-before', '30d', '--archive'], { env });
    expect(noPath.code).toBe(2);
    expect(noPath.stderr).toMatch(/--archive/);
    const both = await runCli(['prune', '--completed-before', '30d', '--archive', join(dir, 'a.jsonl.gz'), '--delete-only'], { env });
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('contradict');
    const badAge = await runCli(['prune', '--completed-before', 'last week', '--delete-only'], { env });
    expect(badAge.code).toBe(2);
    expect(badAge.stderr).toContain('--completed-before must be an age like 30min');
    const badBatch = await runCli(['prune', '--completed-before', '30d', '--delete-only', '--batch', '0'], { env });
    expect(badBatch.stderr).toContain('--batch must be a whole number');
    // The value is checked first, whatever else is missing; minutes are min, a future cut-off needs --force.
    const [abc, minutes, future, noDir, remote] = await Promise.all([
      runCli(['prune', '--completed-before', 'abc'], { env }),
      runCli(['prune', '--completed-before', '6m', '--delete-only'], { env }),
      runCli(['prune', '--completed-before', '2999-01-01', '--delete-only'], { env }),
      runCli(['prune', '--completed-before', '30d', '--archive', join(dir, 'nonexistent', 'a.jsonl.gz')], { env }),
      runCli(['prune', '--completed-before', '30d', '--delete-only'], { env: { ...env, TWELVE_URL: 'http://127.0.0.1:9' } }),
    ]);
    expect([abc.code, minutes.code, future.code, noDir.code, remote.code]).toEqual([2, 2, 2, 2, 2]);
    expect(abc.stderr).toContain('--completed-before must be an age like 30min');
    expect(abc.stderr).not.toContain('--archive');
    expect(minutes.stderr).toContain('ambiguous');
    expect(future.stderr).toContain('is in the future');
    expect(future.stderr).toContain('--force');
    expect(noDir.stderr).toContain(`the directory ${join(dir, 'nonexistent')} does not exist`);
    expect(remote.stderr).toContain('twelve prune reads the database directly, not a server: set TWELVE_DATABASE_URL and unset TWELVE_URL');
    expect(threadIds(path)).toHaveLength(9);
  });

  it('dry run says what would go and deletes nothing', async () => {
    const dir = tempDir();
    const { path, env } = await seed(dir);
    const dry = await runCli(['prune', '--completed-before', '30d', '--dry-run'], { env });
    expect(dry.stderr).toBe('');
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(/^would prune 5 finished threads last updated before \S+ \(10 events\)/);
    expect(dry.stdout).toContain('by status: completed 5');
    expect(dry.stdout).toContain('by agent: triage 3, refunds 2');
    expect(threadIds(path)).toHaveLength(9);
    const json = JSON.parse((await runCli(['prune', '--completed-before', '30d', '--dry-run', '--agent', 'refunds', '--json'], { env })).stdout);
    expect(json).toMatchObject({ dryRun: true, threads: 2, events: 4, byAgent: { refunds: 2 } });
  });

  it('archives then deletes old finished threads in batches, keeping running and recent ones, and the archive keeps every event', async () => {
    const dir = tempDir();
    const { path, ids, env } = await seed(dir);
    const archive = join(dir, 'archive', '2020.jsonl.gz');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(join(dir, 'archive'));
    const result = await runCli(['prune', '--completed-before', '30d', '--archive', archive, '--batch', '2', '--json'], { env });
    expect(result.stderr).toBe('');
    const report = JSON.parse(result.stdout);
    expect(report).toMatchObject({ dryRun: false, batches: 3, threads: 5, events: 10, skipped: 0, archive });
    expect(threadIds(path)).toEqual([...ids.oldRunning!, ...ids.recentFinished!].sort());

    const events = readArchive(archive);
    expect(events).toHaveLength(10);
    expect(new Set(events.map((e) => e.threadId))).toEqual(new Set(ids.oldFinished));
    expect(events[0]).toMatchObject({ seq: 1, type: 'thread_started', releaseId: 'rel_one', data: { agent: 'refunds' } });
    // Every archived event carries its chain link, and the archive verifies on its own.
    expect(events.every((e) => typeof e.hash === 'string' && e.hash.length === 64)).toBe(true);
    const verified = await runCli(['audit', 'verify', '--archive', archive, '--json'], { env });
    expect(verified.code, verified.stdout + verified.stderr).toBe(0);

    // The grants went with the transaction: the log is append-only again for everyone.
    const db = new Database(path);
    expect(() => db.prepare(`DELETE FROM events WHERE thread_id = ?`).run(ids.oldRunning![0])).toThrow(/append-only/);
    db.close();

    // Nothing left to prune: a second run appends nothing and deletes nothing.
    const again = JSON.parse((await runCli(['prune', '--completed-before', '30d', '--archive', archive, '--json'], { env })).stdout);
    expect(again).toMatchObject({ threads: 0, batches: 0 });
    expect(readArchive(archive)).toHaveLength(10);

    // Nothing to prune into a new file: says so, and writes none.
    const empty = join(dir, 'archive', 'none.jsonl.gz');
    const nothing = await runCli(['prune', '--completed-before', '30d', '--archive', empty], { env });
    expect(nothing.stdout).toContain(`nothing to archive: ${empty} not written`);
    expect(existsSync(empty)).toBe(false);
  });

  it('archives the pruned threads\' signed heads, so verify --archive catches a cut tail; any file name; conflicting repeats are named', async () => {
    const dir = tempDir();
    const path = join(dir, 'twelve.db');
    const pem = generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    const plain = new SqliteStore({ path });
    const store = withHeadSigning(plain, { key: parseSigningKey(pem), signEvery: 100 });
    for (const id of ['th_1', 'th_2']) {
      await store.createThread({ id, agent: 'refunds', releaseId: 'rel_one', input: 'x', events: [event('thread_started', { agent: 'refunds', input: 'x', metadata: {} })], summary: { ...summary, status: 'runnable' } });
      await store.append(id, 1, 'rel_one', [event('paused', { by: 'alice' }), event('thread_completed', { output: 'ok' })], { ...summary, status: 'completed' });
    }
    expect(await plain.loadAuditHeads(['th_1', 'th_2'])).toHaveLength(2);
    await plain.close();
    const env = { TWELVE_DATABASE_URL: `sqlite:${path}`, TWELVE_AUDIT_SIGNING_KEY: pem };
    // No .gz in the name: prune writes gzip anyway, and verify reads it by its bytes.
    const archive = join(dir, 'a.jsonl');
    const pruned = await runCli(['prune', '--completed-before', '2999-01-01', '--force', '--archive', archive], { env });
    expect(pruned.code, pruned.stderr).toBe(0);
    const db = new Database(path, { readonly: true });
    expect(db.prepare('SELECT count(*) FROM audit_heads').pluck().get()).toBe(0);
    db.close();
    const verified = await runCli(['audit', 'verify', '--archive', archive, '--json'], { env });
    expect(verified.code, verified.stdout + verified.stderr).toBe(0);
    expect(JSON.parse(verified.stdout)).toMatchObject({ intact: true, headsChecked: 2 });

    // Cut th_1's last event out of the archive: its head, archived with it, names the cut.
    const lines = gunzipSync(readFileSync(archive)).toString('utf8').trim().split('\n');
    const cut = lines.filter((line) => !(line.includes('"threadId":"th_1"') && line.includes('"seq":3') && line.includes('thread_completed')));
    expect(cut.length).toBe(lines.length - 1);
    writeFileSync(join(dir, 'cut.jsonl'), `${cut.join('\n')}\n`);
    const tail = await runCli(['audit', 'verify', '--archive', join(dir, 'cut.jsonl')], { env });
    expect(tail.code).toBe(1);
    expect(tail.stdout).toContain('th_1 seq 3: tail_cut');

    // The same seq twice with different content: one of them is not what was written.
    const forged = lines.find((line) => line.includes('"threadId":"th_2"') && line.includes('"seq":2'))!.replace('alice', 'mallory');
    writeFileSync(join(dir, 'twice.jsonl'), `${[...lines, forged].join('\n')}\n`);
    const twice = await runCli(['audit', 'verify', '--archive', join(dir, 'twice.jsonl')], { env });
    expect(twice.code).toBe(1);
    expect(twice.stdout).toContain('th_2 seq 2: inserted: line');

    // A public key that signed none of the heads is not "0 checked, intact".
    const other = generateKeyPairSync('ed25519').publicKey.export({ format: 'pem', type: 'spki' }).toString();
    const wrongKey = await runCli(['audit', 'verify', '--archive', archive], { env: { TWELVE_AUDIT_PUBLIC_KEY: other } });
    expect(wrongKey.code).toBe(1);
    expect(wrongKey.stderr).toContain('signed by a key other than');
    expect(wrongKey.stdout).toContain('none by the given public key');
  });

  it('after a crash between archiving and deleting, the next run archives the batch again and readers drop the repeats', async () => {
    const dir = tempDir();
    const { path, ids, env } = await seed(dir);
    const archive = join(dir, 'a.jsonl.gz');
    // The crashed run: its first batch reached the archive, not the delete.
    const store = new SqliteStore({ path });
    appendArchiveBatch(archive, await store.loadArchiveEvents(ids.oldFinished!.slice(0, 2)));
    await store.close();
    expect(threadIds(path)).toHaveLength(9);

    const result = await runCli(['prune', '--completed-before', '30d', '--archive', archive], { env });
    expect(result.stdout).toMatch(/^pruned 5 finished threads/);
    expect(result.stdout).toContain(`archived to ${archive}`);
    expect(readArchive(archive)).toHaveLength(10);
    expect(existsSync(archive)).toBe(true);
    // The batch archived twice is the same events twice: audit verify reads it as one, intact.
    const verified = await runCli(['audit', 'verify', '--archive', archive], { env });
    expect(verified.code, verified.stdout + verified.stderr).toBe(0);
  });

  it('deletes without an archive only when told --delete-only', async () => {
    const dir = tempDir();
    const { path, env } = await seed(dir);
    const result = await runCli(['prune', '--completed-before', '2021-01-01', '--delete-only', '--agent', 'triage'], { env });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('no archive (--delete-only)');
    expect(threadIds(path)).toHaveLength(6);
  });

  it('reads a cut-off as an age or an ISO date', () => {
    const now = Date.parse('2026-03-31T00:00:00.000Z');
    expect(parseCutoff('30d', now)).toBe('2026-03-01T00:00:00.000Z');
    expect(parseCutoff('12h', now)).toBe('2026-03-30T12:00:00.000Z');
    expect(parseCutoff('2026-01-31', now)).toBe('2026-01-31T00:00:00.000Z');
    expect(() => parseCutoff('0d', now)).toThrow(/--completed-before/);
  });
});
