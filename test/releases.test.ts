/**
 * Releases you can read: two builds of the refunds agent (prompt, model, a tool's schema and
 * its approval differ) and a notes agent run threads on one SQLite file; the releases are
 * then listed, shown and compared through the real HTTP server on 127.0.0.1, the CLI built in
 * dist/ (local store and TWELVE_URL), and once on PostgreSQL through the store.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRuntime, type Agent, type Runtime } from '../src/index.js';
import { scriptedModel } from '../src/testing.js';
import { parseApiKeys } from '../src/server/auth.js';
import { startServer, type RunningServer } from '../src/server/serve.js';
import { findPair, findRelease } from '../src/release/lookup.js';
import { releaseDiffView } from '../src/release/present.js';
import { notes, refunds } from './fixtures/release-agents.js';
import { runCli } from './support/cli.js';
import { freshPostgresDatabase } from './support/postgres.js';

const readerKey = 'tw_test_reader_5c8e2a1f9b3d7046';
const config = 'test/fixtures/release-config.ts';
const models = {
  'scripted:refunds-a': scriptedModel(() => ({ text: 'refunded' })),
  'scripted:refunds-b': scriptedModel(() => ({ text: 'refunded' })),
  'scripted:notes': scriptedModel(() => ({ text: 'noted' })),
};

let dir: string;
let dbUrl: string;
let v1: string;
let v2: string;
let notesRelease: string;
let server: RunningServer;
let runtime: Runtime;

function runtimeOn(url: string, agents: Agent[]): Runtime {
  return createRuntime({ agents, models, env: { TWELVE_DATABASE_URL: url, TWELVE_LOG: 'off' } });
}

/** Build 1 completes one thread and leaves one runnable; build 2 and notes complete one each. */
async function runBothBuilds(url: string): Promise<{ v1: string; v2: string; notes: string; second: Runtime }> {
  const first = runtimeOn(url, [refunds(1), notes]);
  const done = await first.launch({ agent: 'refunds', input: 'order A-1001' });
  expect((await first.runThread(done.id)).outcome).toBe('completed');
  await first.launch({ agent: 'refunds', input: 'order A-1002' });
  const ids = { v1: first.release('refunds').releaseId, notes: first.release('notes').releaseId };
  const noted = await first.launch({ agent: 'notes', input: 'hello' });
  expect((await first.runThread(noted.id)).outcome).toBe('completed');
  await first.close();
  const second = runtimeOn(url, [refunds(2), notes]);
  const later = await second.launch({ agent: 'refunds', input: 'order A-1003' });
  expect((await second.runThread(later.id)).outcome).toBe('completed');
  return { ...ids, v2: second.release('refunds').releaseId, second };
}

async function get(path: string, key: string | null = readerKey): Promise<{ status: number; body: any }> {
  const response = await fetch(server.url + path, { headers: key ? { authorization: `Bearer ${key}` } : {} });
  return { status: response.status, body: await response.json() };
}

const cli = (args: string[]) => runCli(args, { env: { TWELVE_DATABASE_URL: dbUrl } });
/** Outside the repository, whose own twelve.config.ts would otherwise be the working tree. */
const cliWithoutProject = (args: string[]) => runCli(args, { env: { TWELVE_DATABASE_URL: dbUrl }, cwd: dir });
const remote = (args: string[]) => runCli(args, { env: { TWELVE_URL: server.url, TWELVE_API_KEY: readerKey } });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'twelve-releases-'));
  dbUrl = `sqlite:${join(dir, 'twelve.db')}`;
  const built = await runBothBuilds(dbUrl);
  ({ v1, v2, notes: notesRelease } = built);
  runtime = built.second;
  server = await startServer({ runtime, host: '127.0.0.1', port: 0, apiKeys: parseApiKeys(`dash=reader=${readerKey}`) });
}, 60_000);

afterAll(async () => {
  await server?.close();
  await runtime?.close();
  if (dir) rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
});

describe('GET /v1/releases', () => {
  it('lists releases newest first with their threads by status, marking the ones the server runs', async () => {
    expect(new Set([v1, v2, notesRelease]).size).toBe(3);
    const { status, body } = await get('/v1/releases');
    expect(status).toBe(200);
    expect(body.releases.map((r: any) => r.id)).toEqual([v2, notesRelease, v1]);
    const byId = Object.fromEntries(body.releases.map((r: any) => [r.id, r]));
    expect(byId[v1]).toMatchObject({ agent: 'refunds', current: false, threadsByStatus: { completed: 1, runnable: 1 } });
    expect(byId[v2]).toMatchObject({ agent: 'refunds', current: true, threadsByStatus: { completed: 1 } });
    expect(byId[notesRelease]).toMatchObject({ agent: 'notes', current: true, threadsByStatus: { completed: 1 } });
    expect(byId[v1].ordinal).toBeLessThan(byId[v2].ordinal);
    expect((await get('/v1/releases?agent=refunds&limit=1')).body.releases.map((r: any) => r.id)).toEqual([v2]);
    expect((await get('/v1/releases?limit=0')).status).toBe(400);
    expect((await get('/v1/releases', null)).status).toBe(401);
  });

  it('shows one release: prompt, tools with schemas, effects and policies, models, limits, thread counts', async () => {
    const { status, body } = await get(`/v1/releases/${v1}`);
    expect(status).toBe(200);
    expect(body).toMatchObject({
      id: v1,
      agent: 'refunds',
      current: false,
      prompt: 'You refund orders.\nBe brief.\nRequest: {{input}}',
      models: ['scripted:refunds-a'],
      limits: { maxSteps: 20 },
      onNewRelease: 'auto',
      threads: 2,
      threadsByStatus: { completed: 1, runnable: 1 },
    });
    expect(body.createdAt).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(body.tools).toEqual([
      expect.objectContaining({ name: 'refund', effect: 'external', maxAttempts: 3, approval: expect.objectContaining({ policy: 'never' }), inputSchema: expect.objectContaining({ required: ['orderId', 'amountCents'] }) }),
    ]);
    expect(body.manifest.prompt).toBe(body.prompt);
    const current = await get('/v1/releases/current?agent=refunds');
    expect(current.body).toMatchObject({ id: v2, current: true, tools: [expect.objectContaining({ approval: expect.objectContaining({ policy: 'always' }) })] });
    const ambiguous = await get('/v1/releases/current');
    expect(ambiguous.status).toBe(400);
    expect(ambiguous.body.error.message).toContain('"current" is ambiguous');
  });

  it('answers 404 with the error shape for an unknown release, naming known ones', async () => {
    const { status, body } = await get('/v1/releases/rel_0000000000000000');
    expect(status).toBe(404);
    expect(body.error.code).toBe('release_not_found');
    expect(body.error.message).toContain('no release "rel_0000000000000000"');
    expect(body.error.message).toContain(`${v2} (refunds)`);
    expect(body.error.details.known).toContain(v1);
    expect((await get(`/v1/releases/rel_nope/diff/${v2}`)).status).toBe(404);
  });

  it('diffs two releases of one agent: the prompt as a unified diff, the model, the tool schema field by field, the tighter approval', async () => {
    const { status, body } = await get(`/v1/releases/${v1}/diff/${v2}`);
    expect(status).toBe(200);
    expect(body).toMatchObject({ agent: 'refunds', from: { id: v1, current: false }, to: { id: v2, current: true }, same: false });
    expect(body.prompt).toMatchObject({ added: 1, removed: 0 });
    expect(body.prompt.unified).toBe(`--- ${v1}\n+++ ${v2}\n@@ -1,3 +1,4 @@\n You refund orders.\n+Check the order first.\n Be brief.\n Request: {{input}}`);
    const details = body.changes.map((c: any) => c.detail);
    expect(details).toContain('models scripted:refunds-a → scripted:refunds-b');
    expect(details).toContain('tool refund input.reason added (required)');
    expect(details).toContain('tool refund: approval never → always (tighter)');
    expect(body.groups.map((g: any) => g.group)).toEqual(['prompt', 'models', 'tools', 'approvals']);
    // `current` follows the other side's agent.
    const toCurrent = await get(`/v1/releases/${v1}/diff/current`);
    expect(toCurrent.body.to.id).toBe(v2);
    expect((await get(`/v1/releases/${v2}/diff/current`)).body).toMatchObject({ same: true, prompt: null, changes: [] });
  });

  it('refuses to compare releases of two agents', async () => {
    const { status, body } = await get(`/v1/releases/${v1}/diff/${notesRelease}`);
    expect(status).toBe(400);
    expect(body.error.message).toBe(`releases of different agents cannot be compared: ${v1} is of refunds, ${notesRelease} of notes`);
  });
});

describe('twelve releases', () => {
  it('ls prints id, agent, created and threads by status, marking the working tree\'s releases; --json one per line', async () => {
    const text = await cli(['releases', 'ls', '--config', config]);
    expect(text.stderr).toBe('');
    expect(text.code).toBe(0);
    const lines = text.stdout.split('\n');
    expect(lines[0]).toMatch(/RELEASE +AGENT +CREATED +THREADS/);
    expect(lines.find((l) => l.includes(v1))).toMatch(new RegExp(`^ +${v1} +refunds +\\S+ +1 completed, 1 runnable`));
    expect(lines.find((l) => l.includes(v2))).toMatch(new RegExp(`^\\* +${v2} +refunds +\\S+ +1 completed`));
    expect(text.stdout).toContain("* current: the release the working tree's code makes");

    const json = await cli(['releases', 'ls', '--agent', 'refunds', '--json', '--config', config]);
    const rows = json.stdout.trim().split('\n').map((line) => JSON.parse(line));
    expect(rows).toEqual([
      { id: v2, agent: 'refunds', createdAt: expect.any(String), ordinal: expect.any(Number), current: true, threadsByStatus: { completed: 1 } },
      { id: v1, agent: 'refunds', createdAt: expect.any(String), ordinal: expect.any(Number), current: false, threadsByStatus: { completed: 1, runnable: 1 } },
    ]);
    // Without a project nothing is current, and a bad limit is a usage error.
    const bare = await cliWithoutProject(['releases', 'ls', '--json', '--limit', '1']);
    expect(bare.stdout.trim().split('\n').map((line) => JSON.parse(line).current)).toEqual([false]);
    const bad = await cli(['releases', 'ls', '--limit', 'x']);
    expect(bad).toMatchObject({ code: 2, stderr: 'twelve: --limit must be an integer from 1 to 500, got "x"\n' });
  }, 30_000);

  it('show prints the prompt, tools, models, limits and policies; --json is the API\'s shape', async () => {
    const text = await cli(['releases', 'show', v2, '--config', config]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`release ${v2}  (current: the code at hand makes it)`);
    expect(text.stdout).toContain('models    scripted:refunds-b');
    expect(text.stdout).toContain('threads   1 completed');
    expect(text.stdout).toContain('  You refund orders.\n  Check the order first.\n  Be brief.');
    expect(text.stdout).toContain('  refund: Refund an order\n    effect external, at most 3 attempts; approval always');
    expect(text.stdout).toMatch(/input +\{.*"reason":\{"type":"string"\}/);
    const json = JSON.parse((await cli(['releases', 'show', v1, '--json', '--config', config])).stdout);
    const api = (await get(`/v1/releases/${v1}`)).body;
    expect(json).toEqual(api);
    const current = JSON.parse((await cli(['releases', 'show', 'current', '--agent', 'notes', '--json', '--config', config])).stdout);
    expect(current).toMatchObject({ id: notesRelease, agent: 'notes', current: true });
  }, 30_000);

  it('diff prints the prompt as a unified diff and the other changes by kind; `current` is the working tree', async () => {
    const text = await cli(['releases', 'diff', v1, 'current', '--config', config]);
    expect(text.stderr).toBe('');
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`agent refunds: ${v1} (#`);
    expect(text.stdout).toContain(`→ ${v2} (#`);
    expect(text.stdout).toContain(`prompt (+1 −0 lines):\n--- ${v1}\n+++ ${v2}\n@@ -1,3 +1,4 @@\n You refund orders.\n+Check the order first.\n Be brief.`);
    expect(text.stdout).toContain('Models:\n  models scripted:refunds-a → scripted:refunds-b');
    expect(text.stdout).toContain('Tools:\n  tool refund input.reason added (required)');
    expect(text.stdout).toContain('Approval policies:\n  tool refund: approval never → always (tighter)');
    const json = JSON.parse((await cli(['releases', 'diff', v1, v2, '--json', '--config', config])).stdout);
    expect(json).toEqual((await get(`/v1/releases/${v1}/diff/${v2}`)).body);
    const same = await cli(['releases', 'diff', 'current', v2, '--config', config]);
    expect(same.stdout).toContain('no differences');
  }, 30_000);

  it('refuses unknown ids (listing known ones), releases of two agents, and a bare `current` without a project', async () => {
    const unknown = await cli(['releases', 'show', 'rel_0000000000000000']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^twelve: no release "rel_0000000000000000" in .*twelve\.db; newest known: /);
    expect(unknown.stderr).toContain(`${v1} (refunds)`);
    const crossed = await cli(['releases', 'diff', notesRelease, v2]);
    expect(crossed).toMatchObject({ code: 2, stderr: `twelve: releases of different agents cannot be compared: ${notesRelease} is of notes, ${v2} of refunds\n` });
    const noProject = await cliWithoutProject(['releases', 'diff', v1, 'current']);
    expect(noProject.code).toBe(2);
    expect(noProject.stderr).toContain('"current" means the release of the code at hand, and no agents were found');
    expect((await cli(['releases', 'diff', v1])).stderr).toContain('usage: twelve releases ls');
    // A project that does not load: ls still lists (and says why nothing is current); `current` cannot be resolved.
    const broken = await cli(['releases', 'ls', '--config', 'test/fixtures/no-such-config.ts']);
    expect(broken.code).toBe(0);
    expect(broken.stderr).toBe("twelve: note: the project's agents did not load, so no release is marked current: cannot read test/fixtures/no-such-config.ts: no such file\n");
    expect(broken.stdout.split('\n')[0]).toMatch(/^RELEASE +AGENT +CREATED +THREADS$/);
    const brokenCurrent = await cli(['releases', 'diff', v1, 'current', '--config', 'test/fixtures/no-such-config.ts']);
    expect(brokenCurrent).toMatchObject({ code: 2, stderr: 'twelve: cannot read test/fixtures/no-such-config.ts: no such file\n' });
  }, 30_000);

  it('works against a server with TWELVE_URL, where `current` is the server\'s release', async () => {
    const ls = await remote(['releases', 'ls', '--json']);
    expect(ls.code).toBe(0);
    expect(ls.stdout.trim().split('\n').map((line) => JSON.parse(line).id)).toEqual([v2, notesRelease, v1]);
    const text = await remote(['releases', 'ls']);
    expect(text.stdout).toContain('* current: the release the server runs');
    const diff = await remote(['releases', 'diff', v1, 'current']);
    expect(diff.code).toBe(0);
    expect(diff.stdout).toContain('+Check the order first.');
    const unknown = await remote(['releases', 'show', 'rel_nope']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('no release "rel_nope"');
  }, 30_000);
});

describe('releases on PostgreSQL', () => {
  it('lists, finds and diffs the two builds through the PostgreSQL store', async () => {
    const database = await freshPostgresDatabase();
    let second: Runtime | undefined;
    try {
      const built = await runBothBuilds(database.url);
      second = built.second;
      const store = second.store;
      const listed = await store.listReleases({ agent: 'refunds' });
      expect(listed.map((r) => [r.id, r.threadsByStatus])).toEqual([
        [built.v2, { completed: 1 }],
        [built.v1, { completed: 1, runnable: 1 }],
      ]);
      const current = new Map([['refunds', { id: built.v2, manifest: second.release('refunds').manifest }]]);
      expect(await findRelease(store, 'current', { current })).toMatchObject({ id: built.v2, current: true, threadsByStatus: { completed: 1 } });
      const [from, to] = await findPair(store, built.v1, 'current', { current });
      const view = releaseDiffView(from, to);
      expect(view.prompt?.added).toBe(1);
      expect(view.changes.map((c) => c.kind)).toEqual(expect.arrayContaining(['prompt', 'model', 'tool_input', 'approval']));
      await expect(findPair(store, built.v1, built.notes, { current })).rejects.toThrow('releases of different agents cannot be compared');
    } finally {
      await second?.close();
      await database.cleanup();
    }
  }, 60_000);
});

describe('twelve releases promote', () => {
  it('makes an older release the newest (a rollback) and the working tree\'s again with current; refuses unknown ids and TWELVE_URL', async () => {
    const order = async () => (await runtime.store.listReleases({ agent: 'refunds' })).map((r) => r.id);
    const back = await cli(['releases', 'promote', v1]);
    expect(back.stderr).toBe('');
    expect(back.code).toBe(0);
    expect(back.stdout).toMatch(new RegExp(`^${v1} \\(refunds\\) is now the newest release: workers running it take the \\d+ threads? in flight last stepped by ${v2}`));
    expect(await order()).toEqual([v1, v2]);
    expect((await cli(['releases', 'promote', v1])).stdout).toContain(`${v1} (refunds) is already the newest release of the agent`);

    const forward = await cli(['releases', 'promote', 'current', '--agent', 'refunds', '--config', config]);
    expect(forward.code).toBe(0);
    expect(forward.stdout).toContain(`${v2} (refunds) is now the newest release`);
    expect(await order()).toEqual([v2, v1]);

    const unknown = await cli(['releases', 'promote', 'rel_nope']);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toContain('no release "rel_nope"');
    const viaServer = await remote(['releases', 'promote', v1]);
    expect(viaServer.code).toBe(2);
    expect(viaServer.stderr).toContain('twelve releases promote changes the store');
  });
});
