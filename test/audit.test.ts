/**
 * The tamper-evident log: verify.ts on hand-built chains, then attacks made the way someone with
 * database access would (append-only triggers dropped or disabled, rows edited) on SQLite and
 * PostgreSQL, each named by the verifier; signed heads catch a cut tail and a recomputed chain.
 */
import { createHash, generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { eventHash, linkEvents } from '../src/audit/chain.js';
import { verifyStore, verifyStoredThread } from '../src/audit/audit-log.js';
import { eventLine, parseEventLine, headLine } from '../src/audit/export-format.js';
import { withHeadSigning } from '../src/audit/head-signer.js';
import { parseSigningKey, signHead } from '../src/audit/signing.js';
import { auditConfigOf } from '../src/audit/config.js';
import { verifyThread, type AuditProblem } from '../src/audit/verify.js';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.js';
import type { Store, ThreadSummary } from '../src/store/types.js';
import { event, type ThreadEvent } from '../src/thread/events.js';
import { freshPostgresDatabase } from './support/postgres.js';
import { tempDir } from './support/temp-dir.js';
import { stableStringify } from '../src/util/stable-json.js';

const runnable: ThreadSummary = { status: 'runnable', modelSteps: 0, inputTokens: 0, outputTokens: 0, costUsd: 0 };
const pem = generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
const key = parseSigningKey(pem);

const modelCalled = (costUsd: number) =>
  event('model_called', {
    model: 'scripted:x', attempt: 1, fallbackIndex: 0, latencyMs: 1, usage: { inputTokens: 10, outputTokens: 2 }, costUsd, text: 'ok', toolCalls: [], finishReason: 'stop', contextMessages: 2,
  });

/** A finished thread of five events: started, a priced model call, a person's decision, another call, completed. */
function handBuilt(threadId = 'th_1'): ThreadEvent[] {
  const at = '2026-12-01T00:00:00.000Z';
  const raw = [
    event('thread_started', { agent: 'refunds', input: 'refund A-1', metadata: {} }),
    modelCalled(0.002),
    event('approval_decided', { callId: 'c1', approved: true, by: 'alice' }),
    modelCalled(0.001),
    event('thread_completed', { output: { ok: true } }),
  ];
  return linkEvents(null, raw.map((e, i) => ({ ...e, threadId, seq: i + 1, at, releaseId: 'rel_1' }) as ThreadEvent));
}

const kinds = (problems: AuditProblem[]) => problems.map((p) => [p.seq, p.kind]);

describe('verifyThread', () => {
  it('passes an intact chain and names an edited, deleted, inserted, swapped or unhashed event', () => {
    const intact = handBuilt();
    expect(verifyThread({ threadId: 'th_1', events: intact, threadSeq: 5 })).toMatchObject({ events: 5, covered: 5, notCovered: 0, problems: [] });

    const cost = structuredClone(intact);
    (cost[1]!.data as { costUsd: number }).costUsd = 0.0001;
    expect(kinds(verifyThread({ threadId: 'th_1', events: cost }).problems)).toEqual([[2, 'edited']]);

    const decision = structuredClone(intact);
    (decision[2]!.data as { by: string }).by = 'mallory';
    expect(kinds(verifyThread({ threadId: 'th_1', events: decision }).problems)).toEqual([[3, 'edited']]);

    const release = structuredClone(intact);
    release[3]!.releaseId = 'rel_other';
    expect(kinds(verifyThread({ threadId: 'th_1', events: release }).problems)).toEqual([[4, 'edited']]);

    const deleted = intact.filter((e) => e.seq !== 3);
    expect(kinds(verifyThread({ threadId: 'th_1', events: deleted }).problems)).toEqual([[3, 'deleted']]);

    const fake = { ...intact[1]!, seq: 3, hash: 'f'.repeat(64) } as ThreadEvent;
    const inserted = [...intact.slice(0, 2), fake, ...intact.slice(2).map((e) => ({ ...e, seq: e.seq + 1 }))];
    const insertion = verifyThread({ threadId: 'th_1', events: inserted, threadSeq: 6 }).problems;
    expect(kinds(insertion)).toEqual([[3, 'inserted'], [4, 'reordered']]);
    expect(insertion[1]!.message).toContain('seqs 4-6 hold the events first written at seqs 3-5');

    const swapped = [intact[0]!, { ...intact[2]!, seq: 2 }, { ...intact[1]!, seq: 3 }, ...intact.slice(3)];
    const swap = verifyThread({ threadId: 'th_1', events: swapped }).problems;
    expect(kinds(swap)).toEqual([[2, 'reordered'], [3, 'reordered']]);
    expect(swap.map((p) => p.message)).toEqual(['holds the event first written at seq 3', 'holds the event first written at seq 2']);

    const stripped = intact.map((e) => (e.seq === 4 ? { ...e, hash: null } : e));
    expect(kinds(verifyThread({ threadId: 'th_1', events: stripped }).problems)).toEqual([[4, 'unhashed']]);

    const outOfOrder = [intact[0]!, intact[2]!, intact[1]!, ...intact.slice(3)];
    expect(verifyThread({ threadId: 'th_1', events: outOfOrder }).problems.map((p) => p.kind)).toContain('reordered');
  });

  it('verifies chains written in the first encoding (data with sorted keys) and catches an edit in them', () => {
    let link: string | null = null;
    const sorted = handBuilt().map((e) => {
      const text = stableStringify({ threadId: e.threadId, seq: e.seq, type: e.type, at: e.at, releaseId: e.releaseId, data: e.data });
      link = createHash('sha256').update(`${link ?? ''}\n${text}`).digest('hex');
      return { ...e, hash: link };
    });
    expect(sorted[1]!.hash).not.toBe(handBuilt()[1]!.hash); // model_called's data keys are not in sorted order
    expect(verifyThread({ threadId: 'th_1', events: sorted, threadSeq: 5 }).problems).toEqual([]);
    const edited = structuredClone(sorted);
    (edited[1]!.data as { costUsd: number }).costUsd = 0.0001;
    expect(kinds(verifyThread({ threadId: 'th_1', events: edited }).problems)).toEqual([[2, 'edited']]);
  });

  it('hashes the data as stored: its JSON text read back and written again gives the same link', () => {
    const [, called] = handBuilt();
    const text = JSON.stringify(called!.data);
    expect(eventHash(null, { ...called!, data: JSON.parse(text) })).toBe(eventHash(null, called!, text));
  });

  it('counts events written before the chain as not covered, and catches a stripped prefix of a chained thread', () => {
    const old = handBuilt().slice(0, 2).map((e) => ({ ...e, hash: null }));
    const later = linkEvents(null, handBuilt().slice(2).map((e) => ({ ...e })));
    expect(verifyThread({ threadId: 'th_1', events: [...old, ...later] })).toMatchObject({ covered: 3, notCovered: 2, problems: [] });
    const stripped = handBuilt().map((e) => (e.seq <= 2 ? { ...e, hash: null } : e));
    expect(verifyThread({ threadId: 'th_1', events: stripped }).problems.length).toBeGreaterThan(0);
  });

  it('detects a cut tail or a recomputed chain only with a signed head and its public key', () => {
    const intact = handBuilt();
    const head = signHead(key, { threadId: 'th_1', seq: 5, hash: intact[4]!.hash! });
    const cut = intact.slice(0, 4);
    expect(verifyThread({ threadId: 'th_1', events: cut, heads: [head] }).problems).toEqual([]);
    expect(kinds(verifyThread({ threadId: 'th_1', events: cut, heads: [head], publicKeys: [key.publicKey] }).problems)).toEqual([[5, 'tail_cut']]);

    // An attacker edits the cost and recomputes every link: the chain is consistent, the signed head is not.
    const rewritten = structuredClone(intact).map((e) => ({ ...e, hash: null as string | null }));
    (rewritten[1]!.data as { costUsd: number }).costUsd = 0;
    linkEvents(null, rewritten);
    expect(verifyThread({ threadId: 'th_1', events: rewritten }).problems).toEqual([]);
    expect(kinds(verifyThread({ threadId: 'th_1', events: rewritten, heads: [head], publicKeys: [key.publicKey] }).problems)).toEqual([[5, 'signature']]);

    const forged = { ...head, seq: 4, hash: intact[3]!.hash! };
    expect(verifyThread({ threadId: 'th_1', events: intact, heads: [forged], publicKeys: [key.publicKey] }).problems[0]!.message).toContain('invalid signature');
    expect(verifyThread({ threadId: 'th_1', events: intact, heads: [head], publicKeys: [key.publicKey] })).toMatchObject({ headsChecked: 1, problems: [] });
  });

  it('names signed heads none of which the given public key signed, instead of passing them as unchecked', () => {
    const intact = handBuilt();
    const other = parseSigningKey(generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString());
    const head = signHead(key, { threadId: 'th_1', seq: 5, hash: intact[4]!.hash! });
    const verdict = verifyThread({ threadId: 'th_1', events: intact.slice(0, 4), heads: [head], publicKeys: [other.publicKey] });
    expect(verdict.headsChecked).toBe(0);
    expect(verdict.headsUnknownKey).toBe(1);
    expect(kinds(verdict.problems)).toEqual([[5, 'signature']]);
    expect(verdict.problems[0]!.message).toContain('none by the given public key');
    // No heads at all: nothing to complain about.
    expect(verifyThread({ threadId: 'th_1', events: intact, heads: [], publicKeys: [other.publicKey] }).problems).toEqual([]);
  });

  it('round-trips events and heads through the export line format, and refuses malformed lines by line', () => {
    const [first] = handBuilt();
    expect(parseEventLine(eventLine(first!))).toEqual({ kind: 'event', event: first });
    const head = signHead(key, { threadId: 'th_1', seq: 1, hash: first!.hash! });
    expect(parseEventLine(headLine(head))).toEqual({ kind: 'head', head });
    expect(() => parseEventLine('{"threadId":"t","seq":0}', 'a.jsonl line 7')).toThrow('a.jsonl line 7: type must be a string');
    expect(() => parseEventLine('nope', 'a.jsonl line 2')).toThrow(/a\.jsonl line 2: not JSON/);
  });

  it('refuses a signing key or public key that does not parse, naming the variable', () => {
    expect(auditConfigOf({ TWELVE_AUDIT_SIGNING_KEY: 'not a key' }).problems[0]).toMatch(/^TWELVE_AUDIT_SIGNING_KEY: not a private key/);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'pem', type: 'spki' }).toString();
    expect(auditConfigOf({ TWELVE_AUDIT_PUBLIC_KEY: rsa }).problems[0]).toMatch(/^TWELVE_AUDIT_PUBLIC_KEY: an Ed25519 key is required/);
    expect(auditConfigOf({ TWELVE_AUDIT_SIGN_EVERY: '0' }).problems[0]).toMatch(/^TWELVE_AUDIT_SIGN_EVERY/);
    const base64 = Buffer.from(key.privateKey.export({ format: 'der', type: 'pkcs8' })).toString('base64');
    const ok = auditConfigOf({ TWELVE_AUDIT_SIGNING_KEY: base64 });
    expect(ok.problems).toEqual([]);
    expect(ok.config.signingKey!.keyId).toBe(key.keyId);
  });
});

/** Raw access to the database, the way an attacker with its credentials would have it. */
interface Backend {
  name: string;
  open(): Promise<Store>;
  /** Runs SQL with ? placeholders after the append-only triggers are out of the way. */
  tamper(sql: string, ...params: unknown[]): Promise<void>;
  /** Runs SQL with the triggers in place. */
  raw(sql: string, ...params: unknown[]): Promise<void>;
  cleanup(): Promise<void>;
}

async function sqliteBackend(): Promise<Backend> {
  const dir = tempDir();
  const path = join(dir, 'twelve.db');
  const stores: Store[] = [];
  return {
    name: 'sqlite',
    async open() {
      const store = new SqliteStore({ path });
      stores.push(store);
      return store;
    },
    async tamper(sql, ...params) {
      const db = new Database(path);
      db.exec('DROP TRIGGER IF EXISTS events_no_update; DROP TRIGGER IF EXISTS events_no_delete;');
      db.prepare(sql).run(...(params as never[]));
      db.close();
    },
    async raw(sql, ...params) {
      const db = new Database(path);
      try {
        db.prepare(sql).run(...(params as never[]));
      } finally {
        db.close();
      }
    },
    async cleanup() {
      for (const s of stores) await s.close();
    },
  };
}

async function postgresBackend(): Promise<Backend> {
  const database = await freshPostgresDatabase();
  const stores: Store[] = [];
  return {
    name: 'postgres',
    async open() {
      const store = database.open();
      stores.push(store);
      return store;
    },
    async tamper(sql, ...params) {
      const client = new pg.Client({ connectionString: database.url });
      await client.connect();
      let n = 0;
      try {
        await client.query('ALTER TABLE events DISABLE TRIGGER USER');
        await client.query(sql.replace(/\?/g, () => `$${++n}`), params);
      } finally {
        await client.end();
      }
    },
    async raw(sql, ...params) {
      const client = new pg.Client({ connectionString: database.url });
      await client.connect();
      let n = 0;
      try {
        await client.query(sql.replace(/\?/g, () => `$${++n}`), params);
      } finally {
        await client.end();
      }
    },
    async cleanup() {
      for (const s of stores) await s.close();
      await database.cleanup();
    },
  };
}

for (const make of [sqliteBackend, postgresBackend]) {
  describe(`audit verify on ${make === sqliteBackend ? 'SQLite' : 'PostgreSQL'}, against direct database edits`, () => {
    let backend: Backend;
    afterEach(async () => backend?.cleanup());

    /** A finished five-event thread appended through the store (signed heads when `sign`). */
    async function finishedThread(store: Store, threadId: string): Promise<ThreadEvent[]> {
      await store.createThread({ id: threadId, agent: 'refunds', releaseId: 'rel_1', input: 'refund A-1', events: [event('thread_started', { agent: 'refunds', input: 'refund A-1', metadata: {} })], summary: runnable });
      await store.append(threadId, 1, 'rel_1', [modelCalled(0.002)], { ...runnable, modelSteps: 1 });
      await store.append(threadId, 2, 'rel_2', [event('approval_decided', { callId: 'c1', approved: true, by: 'alice' })], runnable);
      await store.append(threadId, 3, 'rel_2', [modelCalled(0.001), event('thread_completed', { output: { ok: true } })], { ...runnable, status: 'completed', modelSteps: 2 });
      return store.loadEvents(threadId);
    }

    it('passes intact threads and names each edit, deletion, insertion, swap, stripped hash and (signed) cut tail', async () => {
      backend = await make();
      const plain = await backend.open();
      const signed = withHeadSigning(plain, { key, signEvery: 100 });
      const names = ['intact', 'cost', 'decision', 'deleted', 'inserted', 'swapped', 'stripped', 'cut', 'cutsigned'];
      const original = new Map<string, ThreadEvent[]>();
      for (const name of names) original.set(name, await finishedThread(name === 'cutsigned' ? signed : plain, `th_${name}`));

      const edit = async (threadId: string, seq: number, change: (data: Record<string, unknown>) => void) => {
        const data = structuredClone(original.get(threadId.slice(3))!.find((e) => e.seq === seq)!.data) as Record<string, unknown>;
        change(data);
        await backend.tamper('UPDATE events SET data = ? WHERE thread_id = ? AND seq = ?', JSON.stringify(data), threadId, seq);
      };
      await edit('th_cost', 2, (d) => (d.costUsd = 0.0001));
      await edit('th_decision', 3, (d) => (d.by = 'mallory'));
      await backend.tamper('DELETE FROM events WHERE thread_id = ? AND seq = 3', 'th_deleted');
      await backend.tamper('UPDATE events SET seq = seq + 100 WHERE thread_id = ? AND seq >= 3', 'th_inserted');
      await backend.tamper('UPDATE events SET seq = seq - 99 WHERE thread_id = ? AND seq > 100', 'th_inserted');
      await backend.tamper(`INSERT INTO events (thread_id, seq, type, at, release_id, data, hash) SELECT thread_id, 3, type, at, release_id, data, ? FROM events WHERE thread_id = ? AND seq = 2`, 'e'.repeat(64), 'th_inserted');
      await backend.tamper('UPDATE threads SET seq = 6 WHERE id = ?', 'th_inserted');
      await backend.tamper('UPDATE events SET seq = 100 WHERE thread_id = ? AND seq = 2', 'th_swapped');
      await backend.tamper('UPDATE events SET seq = 2 WHERE thread_id = ? AND seq = 3', 'th_swapped');
      await backend.tamper('UPDATE events SET seq = 3 WHERE thread_id = ? AND seq = 100', 'th_swapped');
      await backend.tamper('UPDATE events SET hash = NULL WHERE thread_id = ? AND seq = 4', 'th_stripped');
      for (const id of ['th_cut', 'th_cutsigned']) {
        await backend.tamper('DELETE FROM events WHERE thread_id = ? AND seq = 5', id);
        await backend.tamper('UPDATE threads SET seq = 4 WHERE id = ?', id);
      }

      const store = await backend.open();
      const check = async (name: string, publicKeys = [key.publicKey]) => kinds((await verifyStoredThread(store, `th_${name}`, publicKeys)).problems);
      expect(await check('intact')).toEqual([]);
      expect(await check('cost')).toEqual([[2, 'edited']]);
      expect(await check('decision')).toEqual([[3, 'edited']]);
      expect(await check('deleted')).toEqual([[3, 'deleted']]);
      expect(await check('inserted')).toEqual([[3, 'inserted'], [4, 'reordered']]);
      expect(await check('swapped')).toEqual([[2, 'reordered'], [3, 'reordered']]);
      expect(await check('stripped')).toEqual([[4, 'unhashed']]);
      // A careful cut (the thread row's seq moved back too) is invisible to the chain alone...
      expect(await check('cut')).toEqual([]);
      expect(await check('cutsigned', [])).toEqual([]);
      // ...and caught by the head signed when the thread finished.
      expect(await check('cutsigned')).toEqual([[5, 'tail_cut']]);

      const all = [];
      for await (const verdict of verifyStore(store, { publicKeys: [key.publicKey], pageSize: 7 })) all.push(verdict);
      expect(all.map((v) => v.threadId)).toEqual(names.map((n) => `th_${n}`).sort());
      expect(all.find((v) => v.threadId === 'th_inserted')!.events).toBe(6);
      expect(all.filter((v) => v.problems.length > 0).map((v) => v.threadId).sort()).toEqual(
        ['cost', 'cutsigned', 'decision', 'deleted', 'inserted', 'stripped', 'swapped'].map((n) => `th_${n}`).sort(),
      );
    });

    it('signs a head every N events and when the thread finishes, only with a key (the store untouched without one)', async () => {
      backend = await make();
      const store = await backend.open();
      expect(withHeadSigning(store, { key: undefined, signEvery: 2 })).toBe(store);
      const signing = withHeadSigning(store, { key, signEvery: 2 });
      const events = await finishedThread(signing, 'th_signed');
      const heads = await store.loadAuditHeads(['th_signed']);
      // Appends ending at seq 2, 3 and 5: crossing 2 and 4 (at 5), and finishing at 5.
      expect(heads.map((h) => [h.seq, h.hash, h.keyId])).toEqual([
        [2, events[1]!.hash, key.keyId],
        [5, events[4]!.hash, key.keyId],
      ]);
      expect(await verifyStoredThread(store, 'th_signed', [key.publicKey])).toMatchObject({ headsChecked: 2, problems: [] });
    });

    it('starts the chain after events written before it existed, and the log stays verifiable', async () => {
      backend = await make();
      const store = await backend.open();
      const events = await finishedThread(store, 'th_old');
      // As if the first five events were written before migration 8 (the writer's remembered tip is now wrong too).
      await backend.tamper('UPDATE events SET hash = NULL WHERE thread_id = ?', 'th_old');
      await backend.tamper('UPDATE threads SET created_at = ? WHERE id = ?', '2020-01-01T00:00:00.000Z', 'th_old');
      const more = await store.append('th_old', 5, 'rel_2', [event('resumed', { by: 'alice' }), modelCalled(0.003)], runnable);
      expect(more[0]!.hash).toBe(eventHash(null, more[0]!));
      expect(more[1]!.hash).toBe(eventHash(more[0]!.hash!, more[1]!));
      const verdict = await verifyStoredThread(store, 'th_old');
      expect(verdict).toMatchObject({ events: 7, covered: 2, notCovered: 5, problems: [] });
      expect(events).toHaveLength(5);
    });

    it('keeps signed heads append-only and names a signed thread deleted without a prune, and a new thread stripped of every hash', async () => {
      backend = await make();
      const plain = await backend.open();
      const signed = withHeadSigning(plain, { key, signEvery: 100 });
      await finishedThread(signed, 'th_gone');
      await finishedThread(signed, 'th_kept');
      await finishedThread(plain, 'th_bare');
      await expect(backend.raw('DELETE FROM audit_heads WHERE thread_id = ?', 'th_kept')).rejects.toThrow(/append-only/);
      await expect(backend.raw('UPDATE audit_heads SET seq = 1 WHERE thread_id = ?', 'th_kept')).rejects.toThrow(/append-only/);
      expect(await plain.loadAuditHeads(['th_kept'])).toHaveLength(1);

      // The whole thread goes, heads left behind; another one created after the chain began loses every link, then an edit.
      await backend.tamper('DELETE FROM events WHERE thread_id = ?', 'th_gone');
      await backend.tamper('DELETE FROM threads WHERE id = ?', 'th_gone');
      await backend.tamper('UPDATE events SET hash = NULL WHERE thread_id = ?', 'th_bare');
      await backend.tamper(`UPDATE events SET data = ? WHERE thread_id = ? AND seq = 2`, JSON.stringify({ ...modelCalled(0).data }), 'th_bare');

      const store = await backend.open();
      const bare = await verifyStoredThread(store, 'th_bare', [key.publicKey]);
      expect(bare.notCovered).toBe(0);
      expect(kinds(bare.problems)).toEqual([1, 2, 3, 4, 5].map((seq) => [seq, 'unhashed']));
      const all = [];
      for await (const verdict of verifyStore(store, { publicKeys: [key.publicKey] })) all.push(verdict);
      const byThread = new Map(all.map((v) => [v.threadId, v]));
      expect(kinds(byThread.get('th_gone')!.problems)).toEqual([[1, 'deleted']]);
      expect(byThread.get('th_gone')!.problems[0]!.message).toContain('thread deleted');
      expect(byThread.get('th_kept')!.problems).toEqual([]);
      expect(byThread.get('th_bare')!.problems.length).toBe(5);
    });

    it('names an event whose time was moved by less than a millisecond', async () => {
      backend = await make();
      const store = await backend.open();
      await finishedThread(store, 'th_time');
      if (backend.name === 'postgres') await backend.tamper(`UPDATE events SET at = at + interval '300 microseconds' WHERE thread_id = ? AND seq = 2`, 'th_time');
      else await backend.tamper(`UPDATE events SET at = replace(at, 'Z', '3Z') WHERE thread_id = ? AND seq = 2`, 'th_time');
      expect(kinds((await verifyStoredThread(store, 'th_time')).problems)).toEqual([[2, 'edited']]);
      const all = [];
      for await (const verdict of verifyStore(store)) all.push(verdict);
      expect(kinds(all.find((v) => v.threadId === 'th_time')!.problems)).toEqual([[2, 'edited']]);
    });
  });
}
