/**
 * Replay of recorded threads on a candidate release: the examples replay "same to the end"
 * on the release that recorded them; each kind of change gives its first divergence at the
 * step where it first matters; a stored release id works as a candidate; nothing is appended
 * and no tool runs. Real SQLite (and one PostgreSQL run), the CLI as a user runs it.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import emailClassifier from '../examples/email-classifier/agent.js';
import refunds from '../examples/refunds/agent.js';
import { createRelease, defineAgent, defineTool, scriptedModel, type AgentRelease, type Store } from '../src/index.js';
import { resolveCandidate } from '../src/replay/candidate.js';
import { releaseFromManifest } from '../src/replay/release-from-manifest.js';
import { replayThreads } from '../src/replay/replay-batch.js';
import { replayThread } from '../src/replay/replay-thread.js';
import { openStore } from '../src/store/open.js';
import { runCli } from './support/cli.js';
import { freshPostgresDatabase } from './support/postgres.js';
import { makeRuntime } from './support/runtime.js';
import { tempDir } from './support/temp-dir.js';

/** Tool runs across every copy of the shop's tools: a replay must leave them at what recording left. */
const runs = { lookup_order: 0, refund: 0 };

interface ShopChange {
  prompt?: string;
  model?: string;
  temperature?: number;
  refundInput?: z.ZodObject;
  refundApproval?: 'always' | 'never';
  output?: z.ZodType;
  prefetch?: boolean;
  maxSteps?: number;
}

const refundInput = z.object({ orderId: z.string(), amount: z.number().positive() });

/** A three-step agent: look the order up, refund it, answer. Each change makes one variant of it. */
function shopAgent(change: ShopChange = {}) {
  const lookup = defineTool({
    name: 'lookup_order',
    description: 'Find an order by its id',
    input: z.object({ orderId: z.string() }),
    run: ({ orderId }) => {
      runs.lookup_order++;
      return { orderId, amount: 42.5, status: 'delivered' };
    },
  });
  const refund = defineTool({
    name: 'refund',
    description: 'Refund an order',
    input: change.refundInput ?? refundInput,
    approval: change.refundApproval ?? 'never',
    run: (input) => {
      runs.refund++;
      return { refundId: `rf_${String((input as { orderId: string }).orderId)}` };
    },
  });
  return defineAgent({
    name: 'shop',
    purpose: 'Refund one order',
    model: change.model ?? 'scripted:shop',
    prompt: { text: change.prompt ?? 'You refund orders.\nAlways look the order up first.\nTools:\n{{tools}}' },
    tools: [lookup, refund],
    output: change.output ?? z.object({ decision: z.string(), orderId: z.string() }),
    ...(change.temperature !== undefined ? { modelSettings: { temperature: change.temperature } } : {}),
    ...(change.maxSteps ? { limits: { maxSteps: change.maxSteps } } : {}),
    ...(change.prefetch ? { prefetch: [{ tool: 'lookup_order', args: () => ({ orderId: 'A-1001' }) }] } : {}),
  });
}

const shopScript = () =>
  scriptedModel([
    { toolCalls: [{ tool: 'lookup_order', args: { orderId: 'A-1001' } }] },
    { toolCalls: [{ tool: 'refund', args: { orderId: 'A-1001', amount: 42.5 } }] },
    { text: '{"decision":"refunded","orderId":"A-1001"}' },
  ]);

/** Records one shop thread (three model steps) and returns the runtime, its store and the thread. */
async function recordShop(store?: Store) {
  const { runtime } = makeRuntime({ agents: [shopAgent()], models: { 'scripted:shop': shopScript() }, ...(store ? { store } : {}) });
  const thread = await runtime.launch({ agent: 'shop', input: 'Refund A-1001, it arrived broken' });
  const { outcome } = await runtime.runThread(thread.id);
  expect(outcome).toBe('completed');
  return { runtime, store: runtime.store, threadId: thread.id };
}

const variant = (change: ShopChange): AgentRelease => createRelease(shopAgent(change), {}, '0');

/** Replays, and checks the replay appended nothing and ran no tool. */
async function replayUntouched(store: Store, threadId: string, candidate: AgentRelease) {
  const before = { seq: (await store.getThread(threadId))!.seq, events: (await store.loadEvents(threadId)).length, runs: { ...runs } };
  const result = await replayThread({ store, threadId, candidate });
  expect((await store.getThread(threadId))!.seq).toBe(before.seq);
  expect((await store.loadEvents(threadId)).length).toBe(before.events);
  expect(runs).toEqual(before.runs);
  return result;
}

describe('replay on the release that recorded the thread', () => {
  it('gives "same to the end" for every example thread, on the current release and on its stored manifest, without running a tool', async () => {
    const dir = tempDir();
    process.env.REFUNDS_LEDGER_PATH = join(dir, 'ledger.db');
    const { runtime } = makeRuntime({ agents: [refunds, emailClassifier], modelMode: 'replay', dir });
    const samples = [
      ['refunds', 'examples/refunds/sample-request.txt'],
      ['refunds', 'examples/refunds/sample-late.txt'],
      ['refunds', 'examples/refunds/sample-large.txt'],
      ['email-classifier', 'examples/email-classifier/sample-email.txt'],
      ['email-classifier', 'examples/email-classifier/sample-login.txt'],
    ] as const;
    const threads: string[] = [];
    for (const [agent, file] of samples) {
      const thread = await runtime.launch({ agent, input: readFileSync(file, 'utf8').trimEnd() });
      let { outcome } = await runtime.runThread(thread.id);
      if (outcome === 'awaiting_approval') {
        await runtime.decide(thread.id, { by: { name: 'fiona', roles: ['finance'] }, approved: true });
        ({ outcome } = await runtime.runThread(thread.id));
      }
      expect(outcome).toBe('completed');
      threads.push(thread.id);
    }
    const ledger = new Database(join(dir, 'ledger.db'), { readonly: true });
    const refundsIssued = () => ledger.prepare('SELECT count(*) FROM refunds').pluck().get();
    try {
      const issued = refundsIssued();
      expect(issued).toBe(2);
      for (const [index, threadId] of threads.entries()) {
        const agent = samples[index]![0];
        const current = runtime.release(agent);
        const result = await replayUntouched(runtime.store, threadId, current);
        expect(result, `${samples[index]![1]}`).toMatchObject({ outcome: 'same', agent, fromReleases: [current.releaseId], toRelease: current.releaseId });
        expect(result.stepsCompared).toBe(result.stepsRecorded);
        expect(result.stepsCompared).toBeGreaterThan(0);
        expect(result.servedThroughSeq).toBe(result.threadSeq);
        // The same release rebuilt from its stored manifest renders the very same requests.
        const stored = await runtime.store.getRelease(current.releaseId);
        const fromManifest = releaseFromManifest(stored!.manifest, { releaseId: 'rel_manifest_copy' });
        expect(await replayUntouched(runtime.store, threadId, fromManifest)).toMatchObject({ outcome: 'same', stepsCompared: result.stepsRecorded });
      }
      expect(refundsIssued()).toBe(issued);
    } finally {
      ledger.close();
    }
  });
});

describe('replay on a changed release', () => {
  it('stops at the first divergence, with the kind of change and the step where it first matters', async () => {
    const { store, threadId } = await recordShop();
    const cases: Array<[string, ShopChange, { step: number; kind: string; detail: RegExp }]> = [
      ['a prompt change', { prompt: 'You refund orders.\nNever refund without a photo.\nTools:\n{{tools}}' }, { step: 1, kind: 'system_prompt', detail: /line 2:\n {2}- Always look the order up first\.\n {2}\+ Never refund without a photo\./ }],
      ['a tool input-schema change', { refundInput: refundInput.extend({ reason: z.string() }) }, { step: 1, kind: 'tools', detail: /^tools offered: changed refund \(input schema: reason, \(required\)\)$/ }],
      ['a model change', { model: 'scripted:cheaper' }, { step: 1, kind: 'model', detail: /^primary model scripted:shop -> scripted:cheaper$/ }],
      ['a temperature change', { temperature: 0.7 }, { step: 1, kind: 'settings', detail: /^temperature \(unset\) -> 0\.7$/ }],
      ['an output-schema change', { output: z.object({ decision: z.string(), orderId: z.string(), amount: z.number() }) }, { step: 1, kind: 'output', detail: /output schema asked of the model changed: fields amount/ }],
      ['a lower step limit', { maxSteps: 2 }, { step: 3, kind: 'settings', detail: /^limits\.maxSteps is 2: the candidate would stop for a person before model step 3$/ }],
      ['a prefetch added', { prefetch: true }, { step: 1, kind: 'messages', detail: /^the candidate prefetches lookup_order before the first model step; the recording prefetched nothing$/ }],
      ['an approval-policy change', { refundApproval: 'always' }, { step: 2, kind: 'approval', detail: /^refund \{"orderId":"A-1001","amount":42\.5\}: the candidate would ask for approval \(this tool always needs approval\); the original did not$/ }],
      // Refinements are not in the JSON Schema the model sees: the request is the same, the verdict is not.
      ['a stricter argument check', { refundInput: z.object({ orderId: z.string(), amount: z.number().positive().refine((n) => n < 10, 'refunds above 10 go to a person') }) }, { step: 2, kind: 'tool_arguments', detail: /the candidate's input schema refuses these arguments \(amount: refunds above 10 go to a person\)/ }],
      ['a stricter answer check', { output: z.object({ decision: z.string().refine((d) => d !== 'refunded', 'no refunds today'), orderId: z.string() }) }, { step: 3, kind: 'output', detail: /the candidate refuses the recorded final answer \(decision: no refunds today\)/ }],
    ];
    for (const [name, change, expected] of cases) {
      const result = await replayUntouched(store, threadId, variant(change));
      expect(result.outcome, name).toBe('diverged');
      expect(result.divergence, name).toMatchObject({ step: expected.step, kind: expected.kind });
      expect(result.divergence!.detail, name).toMatch(expected.detail);
      expect(result.stepsCompared, name).toBe(expected.step);
      // A live continuation may copy everything before the diverging model step.
      expect(result.servedThroughSeq, name).toBe(result.divergence!.seq - 1);
    }
    expect((await replayUntouched(store, threadId, variant({}))).outcome).toBe('same');
    expect(runs).toEqual({ lookup_order: 1, refund: 1 });
  });

  it('renders both sides with the candidate\'s own renderContext, so a changed prompt still shows and the recorded count is not required', async () => {
    const { store, threadId } = await recordShop();
    let rendered = 0;
    const own = (change: ShopChange) => {
      const agent = shopAgent(change);
      (agent.options as { renderContext?: unknown }).renderContext = ({ defaultMessages }: { defaultMessages: unknown[] }) => {
        rendered++;
        // Drops nothing the recorded requests had, adds a reminder: counts differ from the recording.
        return [...defaultMessages, { role: 'user', content: [{ type: 'text', text: 'Be brief.' }] }];
      };
      return createRelease(agent, {}, '0');
    };
    expect(await replayUntouched(store, threadId, own({}))).toMatchObject({ outcome: 'same', stepsCompared: 3 });
    // Both sides of each of the 3 steps: the recording release is rebuilt from its manifest with the candidate's function.
    expect(rendered).toBe(6);
    expect(await replayUntouched(store, threadId, own({ prompt: 'You refund orders.\nTools:\n{{tools}}' }))).toMatchObject({ outcome: 'diverged', divergence: { step: 1, kind: 'system_prompt' } });
    expect(rendered).toBe(8);
  });

  it('replays on a stored release id, and refuses an unknown one with the agent\'s known releases', async () => {
    const { runtime, store, threadId } = await recordShop();
    const changed = variant({ prompt: 'You refund orders quickly.\nTools:\n{{tools}}' });
    await store.saveRelease({ id: changed.releaseId, agent: 'shop', manifest: changed.manifest });
    const current = runtime.release('shop');
    const stored = await resolveCandidate({ store, agent: 'shop', release: changed.releaseId, current: undefined });
    expect(stored.releaseId).toBe(changed.releaseId);
    const result = await replayUntouched(store, threadId, stored);
    expect(result).toMatchObject({ outcome: 'diverged', fromReleases: [current.releaseId], toRelease: changed.releaseId, divergence: { step: 1, seq: 2, kind: 'system_prompt' } });
    const same = await resolveCandidate({ store, agent: 'shop', release: current.releaseId, current: undefined });
    expect(await replayUntouched(store, threadId, same)).toMatchObject({ outcome: 'same', stepsCompared: 3 });

    await expect(resolveCandidate({ store, agent: 'shop', release: 'rel_0000000000000000', current })).rejects.toThrow(
      new RegExp(`--release: no release "rel_0000000000000000" in the store; releases of shop, newest first: ${changed.releaseId} \\(.*\\), ${current.releaseId} \\(`),
    );
    await expect(resolveCandidate({ store, agent: 'refunds', release: 'current', current: undefined })).rejects.toThrow(/agent refunds is not in this project.*agent refunds has no stored release/);
  });

  it('stops, saying why, when the thread was recorded by another agent or its release manifest is missing', async () => {
    const { store, threadId } = await recordShop();
    const other = createRelease(defineAgent({ name: 'other', purpose: 'Something else', model: 'scripted:shop', prompt: { text: 'x' } }), {}, '0');
    expect(await replayUntouched(store, threadId, other)).toMatchObject({ outcome: 'stopped', stoppedReason: expect.stringMatching(/recorded by agent shop; the candidate rel_\w+ is a release of other/), stepsCompared: 0 });

    const dir = tempDir();
    const bare = openStore(`sqlite:${join(dir, 'bare.db')}`);
    try {
      // The same log in a store that never saw the release that recorded it.
      const events = await store.loadEvents(threadId);
      const thread = (await store.getThread(threadId))!;
      await bare.createThread({ id: threadId, agent: 'shop', releaseId: thread.releaseId, input: thread.input, events: [events[0]!], summary: { status: 'runnable', modelSteps: 0, inputTokens: 0, outputTokens: 0, costUsd: 0 } });
      await bare.append(threadId, 1, thread.releaseId, events.slice(1).map((e) => ({ type: e.type, data: e.data }) as never), { status: 'completed', modelSteps: 3, inputTokens: 0, outputTokens: 0, costUsd: 0 });
      const result = await replayThread({ store: bare, threadId, candidate: variant({ model: 'scripted:cheaper' }) });
      expect(result).toMatchObject({ outcome: 'stopped', servedThroughSeq: 1, stoppedReason: expect.stringMatching(/^step 1 \(seq 2\): the manifest of release rel_\w+, which made a recorded model call, is not in the store$/) });
    } finally {
      await bare.close();
    }
  });

  it('replays a batch of an agent\'s threads: one result per thread and a summary', async () => {
    const { runtime, store } = await recordShop();
    const second = await runtime.launch({ agent: 'shop', input: 'Refund A-1001 again' });
    // A thread with no model step yet has nothing to compare: counted apart, neither same nor diverged.
    const results: string[] = [];
    const batch = await replayThreads({ store, candidate: runtime.release('shop'), onResult: (r) => results.push(r.threadId) });
    expect(batch.summary).toMatchObject({ threads: 2, same: 1, notCompared: 1, diverged: 0, stopped: 0 });
    expect(results[0]).toBe(second.id);
    const changed = await replayThreads({ store, candidate: variant({ refundApproval: 'always' }), status: ['completed'] });
    expect(changed.summary).toMatchObject({ threads: 1, same: 0, diverged: 1 });
    expect(changed.results[0]!.divergence).toMatchObject({ step: 2, kind: 'approval' });
  });
});

describe('replay on PostgreSQL', () => {
  it('gives the same verdicts on a PostgreSQL store', async () => {
    const database = await freshPostgresDatabase();
    const store = database.open();
    try {
      const { runtime, threadId } = await recordShop(store);
      expect(await replayUntouched(store, threadId, runtime.release('shop'))).toMatchObject({ outcome: 'same', stepsCompared: 3 });
      expect(await replayUntouched(store, threadId, variant({ refundApproval: 'always' }))).toMatchObject({ outcome: 'diverged', divergence: { step: 2, kind: 'approval' } });
      const changed = variant({ model: 'scripted:cheaper' });
      await store.saveRelease({ id: changed.releaseId, agent: 'shop', manifest: changed.manifest });
      const stored = await resolveCandidate({ store, agent: 'shop', release: changed.releaseId, current: runtime.release('shop') });
      expect(await replayUntouched(store, threadId, stored)).toMatchObject({ outcome: 'diverged', divergence: { step: 1, kind: 'model' } });
    } finally {
      await store.close();
      await database.cleanup();
    }
  });
});

describe('twelve replay', () => {
  let dir: string;
  let env: Record<string, string>;
  let threadId: string;
  let releaseId: string;
  let seqBefore: number;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'twelve-replay-cli-'));
    env = { TWELVE_DATABASE_URL: `sqlite:${join(dir, 'twelve.db')}`, REFUNDS_LEDGER_PATH: join(dir, 'ledger.db'), TWELVE_MODEL_MODE: 'replay' };
    const [run, classify] = await Promise.all([
      runCli(['run', 'refunds', '--input', '@examples/refunds/sample-request.txt', '--json'], { env }),
      runCli(['run', 'email-classifier', '--input', '@examples/email-classifier/sample-email.txt', '--json'], { env }),
    ]);
    expect(run.code).toBe(0);
    expect(classify.code).toBe(0);
    ({ threadId, releaseId } = JSON.parse(run.stdout.split('\n')[0]!) as { threadId: string; releaseId: string });
    // A stored variant of the refunds release with its first prompt line changed.
    const store = openStore(env.TWELVE_DATABASE_URL!);
    try {
      const manifest = (await store.getRelease(releaseId))!.manifest;
      const prompt = String(manifest.prompt);
      await store.saveRelease({ id: 'rel_changedprompt0001', agent: 'refunds', manifest: { ...manifest, prompt: prompt.replace(prompt.split('\n')[0]!, 'You approve every refund.') } });
      seqBefore = (await store.getThread(threadId))!.seq;
    } finally {
      await store.close();
    }
  });

  afterAll(async () => {
    // Replays wrote nothing: the recorded thread is where the run left it.
    const store = openStore(env.TWELVE_DATABASE_URL!);
    try {
      expect((await store.getThread(threadId))!.seq).toBe(seqBefore);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('prints "same to the end" (exit 0) or the first divergence (exit 1), refuses an unknown release (exit 2), and prints JSON with --json', async () => {
    const [same, json, diverged, unknown] = await Promise.all([
      runCli(['replay', threadId], { env }),
      runCli(['replay', threadId, '--json'], { env }),
      runCli(['replay', threadId, '--release', 'rel_changedprompt0001'], { env }),
      runCli(['replay', threadId, '--release', 'rel_nope'], { env }),
    ]);
    expect(same.stderr).toBe('');
    expect(same.code).toBe(0);
    expect(same.stdout).toMatch(new RegExp(`^${threadId} {2}refunds {2}${releaseId} -> ${releaseId}\\nsame to the end \\(3 model steps compared, [\\d.]+ ms\\)\\n$`));

    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ threadId, agent: 'refunds', outcome: 'same', stepsCompared: 3, fromReleases: [releaseId], toRelease: releaseId, servedThroughSeq: seqBefore });

    expect(diverged.code).toBe(1);
    expect(diverged.stdout).toContain(`${releaseId} -> rel_changedprompt0001`);
    expect(diverged.stdout).toMatch(/diverged at step 1 \(seq 2\) of 3: system_prompt\n {2}the system prompt differs at line 1:\n {4}- You are the refunds agent.+\n {4}\+ You approve every refund\./);

    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/--release: no release "rel_nope" in the store; releases of refunds, newest first: rel_changedprompt0001 \(.*\), rel_\w+ \(/);
  });

  it('replays an agent\'s threads as a batch: a row per thread and a summary, exit 1 when one diverged, and checks its flags', async () => {
    const [batch, batchDiverged, batchJson, badSince, badLimit, misplaced] = await Promise.all([
      runCli(['replay', '--agent', 'refunds'], { env }),
      runCli(['replay', '--agent', 'refunds', '--release', 'rel_changedprompt0001', '--since', '1h', '--status', 'completed'], { env }),
      runCli(['replay', '--agent', 'refunds', '--json', '--limit', '5'], { env }),
      runCli(['replay', '--agent', 'refunds', '--since', '7 days'], { env }),
      runCli(['replay', '--agent', 'refunds', '--limit', '0'], { env }),
      runCli(['replay', threadId, '--since', '7d'], { env }),
    ]);
    expect(batch.stderr).toBe('');
    expect(batch.code).toBe(0);
    expect(batch.stdout).toMatch(new RegExp(`^${threadId} +3 +${releaseId} +same$`, 'm'));
    expect(batch.stdout).toMatch(new RegExp(`^1 thread of refunds replayed on ${releaseId}: 1 same, 0 diverged, 0 stopped \\(\\d+ ms\\)$`, 'm'));
    expect(batch.stdout).not.toContain('email');

    expect(batchDiverged.code).toBe(1);
    expect(batchDiverged.stdout).toMatch(new RegExp(`^${threadId} +3 +${releaseId} +diverged at step 1: system_prompt$`, 'm'));
    expect(batchDiverged.stdout).toMatch(/^1 thread of refunds replayed on rel_changedprompt0001: 0 same, 1 diverged, 0 stopped/m);

    // A gate that compares nothing does not pass.
    const nothing = await runCli(['replay', '--agent', 'refunds', '--status', 'failed'], { env });
    expect(nothing.code).toBe(1);
    expect(nothing.stderr.trim()).toBe('twelve replay: nothing compared: no threads of refunds match (widen --since, --status or --limit)');

    expect(batchJson.code).toBe(0);
    const lines = batchJson.stdout.trim().split('\n').map((line) => JSON.parse(line));
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ threadId, outcome: 'same' });
    expect(lines[1]).toMatchObject({ summary: { threads: 1, same: 1, diverged: 0, stopped: 0, agent: 'refunds', release: releaseId } });

    expect(badSince.code).toBe(2);
    expect(badSince.stderr.trim()).toBe('twelve: --since must be an age like 30m, 12h, 7d or 2w (a positive whole number and m, h, d or w), got "7 days"');
    expect(badLimit.code).toBe(2);
    expect(badLimit.stderr.trim()).toBe('twelve: --limit must be a positive integer, got "0"');
    expect(misplaced.code).toBe(2);
    expect(misplaced.stderr.trim()).toBe('twelve: --since only applies to a batch (twelve replay --agent <name>); see twelve replay --help');
  });

  it('goes on past the divergence with --live in a shadow thread that serves the recorded tool results and refunds nothing', async () => {
    // A copy of the recorded thread, as if the release with the changed prompt had made it.
    const store = openStore(env.TWELVE_DATABASE_URL!);
    const copyId = `${threadId}_old`;
    try {
      const events = await store.loadEvents(threadId);
      await store.createThread({
        id: copyId,
        agent: 'refunds',
        releaseId: 'rel_changedprompt0001',
        input: events[0]!.type === 'thread_started' ? events[0]!.data.input : null,
        events: events.map((e) => ({ type: e.type, data: e.data, releaseId: 'rel_changedprompt0001', at: e.at }) as never),
        summary: { status: 'completed', modelSteps: 3, inputTokens: 0, outputTokens: 0, costUsd: 0 },
      });
    } finally {
      await store.close();
    }
    const ledger = new Database(join(dir, 'ledger.db'), { readonly: true });
    const refundsIssued = () => ledger.prepare('SELECT count(*) FROM refunds').pluck().get();
    const issuedBefore = refundsIssued();
    try {
      const [live, liveBatch, liveOther] = await Promise.all([
        runCli(['replay', copyId, '--live', '--as', 'qa@example.com'], { env }),
        runCli(['replay', '--agent', 'refunds', '--live'], { env }),
        runCli(['replay', copyId, '--live', '--release', 'rel_changedprompt0001'], { env }),
      ]);
      expect(live.code).toBe(1); // it diverged; the shadow thread is how it would go on
      expect(live.stdout).toMatch(/diverged at step 1 \(seq 2\) of 3: system_prompt/);
      const shadowId = /^(th_\w+) {2}replay of /m.exec(live.stdout)?.[1];
      expect(shadowId, live.stdout).toBeDefined();
      expect(live.stdout).toContain(`replay of ${copyId}, going on live from seq 1 on ${releaseId}`);
      expect(refundsIssued()).toBe(issuedBefore);

      const check = openStore(env.TWELVE_DATABASE_URL!);
      try {
        expect(await check.getThread(shadowId!)).toMatchObject({ status: 'completed', agent: 'refunds', releaseId });
        const shadowEvents = await check.loadEvents(shadowId!);
        expect(shadowEvents[1]).toMatchObject({ type: 'thread_forked', releaseId, data: { from: copyId, atSeq: 1, by: 'qa@example.com', shadow: { replayOf: copyId } } });
        // The refund was not made again: its recorded result was served.
        const served = shadowEvents.filter((e) => e.type === 'tool_succeeded' && e.data.replayed === 'recorded');
        expect(served.length).toBeGreaterThan(0);
        expect(shadowEvents.some((e) => e.type === 'tool_started')).toBe(false);
      } finally {
        await check.close();
      }

      expect(liveBatch.code).toBe(2);
      expect(liveBatch.stderr).toContain('--live continues one thread');
      expect(liveOther.code).toBe(2);
      expect(liveOther.stderr).toContain('--live continues on the code here (the current release), not rel_changedprompt0001');
    } finally {
      ledger.close();
    }
  });
});
