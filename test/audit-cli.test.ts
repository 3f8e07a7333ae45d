/**
 * `twelve audit verify | export` as a user runs them (dist/ via bin/twelve.js): a real run signed
 * by the runtime, direct database edits, an export verified as an archive (plain and gzipped),
 * signed heads catching a cut tail, and the exit codes CI and cron rely on.
 */
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli.js';
import { tempDir } from './support/temp-dir.js';

const signingKey = generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();

describe('twelve audit', () => {
  it('verifies a signed run, names direct edits and a cut tail, and round-trips an export through verify --archive', async () => {
    const dir = tempDir();
    const db = join(dir, 'twelve.db');
    const base = { TWELVE_DATABASE_URL: `sqlite:${db}`, TWELVE_MODEL_MODE: 'replay' };
    const signed = { ...base, TWELVE_AUDIT_SIGNING_KEY: signingKey };
    for (let i = 0; i < 2; i += 1) {
      const run = await runCli(['run', 'email-classifier', '--input', '@examples/email-classifier/sample-email.txt'], { env: signed });
      expect(run.code, run.stderr).toBe(0);
    }
    const raw = new Database(db);
    const [first, second] = (raw.prepare('SELECT id FROM threads ORDER BY created_at, id').pluck().all() as string[]);

    const intact = await runCli(['audit', 'verify', '--all'], { env: signed });
    expect(intact.code, intact.stderr).toBe(0);
    expect(intact.stdout).toMatch(/^intact: 2 threads, 6 events; 2 signed heads checked; \d+ ms \(\d+ events\/s\)\n$/);

    const exported = await runCli(['audit', 'export', first!, '--format', 'jsonl'], { env: base });
    expect(exported.code, exported.stderr).toBe(0);
    const lines = exported.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.type ?? 'head')).toEqual(['thread_started', 'model_called', 'thread_completed', 'head']);
    expect(lines[0]).toMatchObject({ threadId: first, seq: 1, hash: expect.stringMatching(/^[0-9a-f]{64}$/) });
    const archive = join(dir, 'export.jsonl');
    writeFileSync(archive, exported.stdout);
    writeFileSync(`${archive}.gz`, gzipSync(exported.stdout));
    for (const file of [archive, `${archive}.gz`]) {
      const checked = await runCli(['audit', 'verify', '--archive', file], { env: signed });
      expect(checked.code, checked.stdout + checked.stderr).toBe(0);
      expect(checked.stdout).toContain('intact: 1 thread, 3 events; 1 signed head checked');
    }
    // A redacted copy to share: the patterns apply, its first line says so, and verify refuses it.
    const shared = await runCli(['audit', 'export', first!, '--redact'], { env: { ...base, TWELVE_REDACT_PATTERNS: '/Charged twice/' } });
    expect(shared.code, shared.stderr).toBe(0);
    expect(exported.stdout).toContain('Charged twice');
    expect(shared.stdout).not.toContain('Charged twice');
    expect(JSON.parse(shared.stdout.split('\n')[0]!)).toMatchObject({ format: 'twelve-export-redacted' });
    writeFileSync(join(dir, 'shared.jsonl'), shared.stdout);
    const refused = await runCli(['audit', 'verify', '--archive', join(dir, 'shared.jsonl')], { env: base });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('is a redacted export');
    // audit reads the database, never a server: TWELVE_URL is refused, not ignored.
    const remote = await runCli(['audit', 'verify', '--all'], { env: { ...base, TWELVE_URL: 'http://127.0.0.1:9' } });
    expect(remote.code).toBe(2);
    expect(remote.stderr).toContain('twelve audit reads the database directly, not a server: set TWELVE_DATABASE_URL and unset TWELVE_URL');

    // The archive edited: the model call's cost.
    const edited = readFileSync(archive, 'utf8').replace(/"costUsd":[0-9.e-]+/, '"costUsd":0');
    writeFileSync(join(dir, 'edited.jsonl'), edited);
    const caught = await runCli(['audit', 'verify', '--archive', join(dir, 'edited.jsonl')], { env: base });
    expect(caught.code).toBe(1);
    expect(caught.stdout).toContain(`${first} seq 2: edited:`);

    // Direct edits: the first thread's cost, and the second thread's tail cut carefully (thread row too).
    raw.exec('DROP TRIGGER events_no_update; DROP TRIGGER events_no_delete;');
    const data = JSON.parse(raw.prepare('SELECT data FROM events WHERE thread_id = ? AND seq = 2').pluck().get(first) as string);
    raw.prepare('UPDATE events SET data = ? WHERE thread_id = ? AND seq = 2').run(JSON.stringify({ ...data, costUsd: 0 }), first);
    raw.prepare('DELETE FROM events WHERE thread_id = ? AND seq = 3').run(second);
    raw.prepare('UPDATE threads SET seq = 2 WHERE id = ?').run(second);
    raw.close();

    const one = await runCli(['audit', 'verify', '--thread', first!], { env: base });
    expect(one.code).toBe(1);
    expect(one.stdout.split('\n')[0]).toBe(`${first} seq 2: edited: its content or hash was changed (it does not match its link)`);
    expect(one.stdout).toContain('TAMPERED: 1 problem in 1 thread');

    const unsignedCheck = await runCli(['audit', 'verify', '--thread', second!], { env: base });
    expect(unsignedCheck.code).toBe(0);
    expect(unsignedCheck.stdout).toContain('signed heads not checked');
    const signedCheck = await runCli(['audit', 'verify', '--thread', second!], { env: signed });
    expect(signedCheck.code).toBe(1);
    expect(signedCheck.stdout).toContain(`${second} seq 3: tail_cut: a signed head covers seq 3 but the log ends at seq 2`);

    const json = await runCli(['audit', 'verify', '--all', '--json'], { env: signed });
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ intact: false, threads: 2, events: 5, headsChecked: 2, problems: [{ threadId: first, seq: 2, kind: 'edited' }, { threadId: second, seq: 3, kind: 'tail_cut' }] });
  });

  it('exits 2 on bad usage and on a signing key that does not parse, naming the variable', async () => {
    const env = { TWELVE_DATABASE_URL: `sqlite:${join(tempDir(), 'twelve.db')}` };
    for (const args of [['audit'], ['audit', 'verify'], ['audit', 'verify', '--all', '--thread', 'x'], ['audit', 'export'], ['audit', 'export', 'th_1', '--format', 'csv']]) {
      const result = await runCli(args, { env });
      expect(result.code, args.join(' ')).toBe(2);
    }
    const bad = await runCli(['audit', 'verify', '--all'], { env: { ...env, TWELVE_AUDIT_SIGNING_KEY: 'not-a-key' } });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('TWELVE_AUDIT_SIGNING_KEY: not a private key');
  });
});
