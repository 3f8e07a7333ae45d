/**
 * The NATS JetStream trigger against a real server (TWELVE_TEST_NATS_URL, else
 * nats://127.0.0.1:4222; see test/support/nats.ts for when the suite is skipped).
 * Each test has its own stream, subject and durable, deleted afterwards.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Msg } from '@nats-io/transport-node';
import { AckPolicy } from '@nats-io/jetstream';
import { startNatsTrigger, type NatsMessageOutcome, type NatsTriggerOptions } from '../src/triggers/nats.js';
import { agentFromFilter, subjectCovers, versionAtLeast } from '../src/triggers/subjects.js';
import type { Runtime } from '../src/index.js';
import { repoRoot } from './support/cli.js';
import { echoAgent, echoModels } from './support/nats-agent.js';
import { consumerState, createStream, natsFixture, natsSkipReason, natsUrl, sleep, waitFor, type NatsFixture } from './support/nats.js';
import { makeRuntime } from './support/runtime.js';

const skipReason = await natsSkipReason();

type Acked = Extract<NatsMessageOutcome, { kind: 'acked' }>;

/** A trigger for this test's stream, recording what it did with each message. */
async function trigger(f: NatsFixture, runtime: Runtime, options: Partial<NatsTriggerOptions> = {}) {
  const outcomes: NatsMessageOutcome[] = [];
  const t = f.track(
    await startNatsTrigger({
      runtime,
      servers: natsUrl,
      stream: f.stream,
      subject: f.subject,
      durable: f.durable,
      ackWaitMs: 1_000,
      maxDeliver: 5,
      ...options,
      hooks: { settled: (outcome) => outcomes.push(outcome), ...options.hooks },
    }),
  );
  const acked = (count: number) => waitFor(`${count} acked message(s)`, () => {
    const list = outcomes.filter((o): o is Acked => o.kind === 'acked');
    return list.length >= count && list;
  });
  return { trigger: t, outcomes, acked };
}

/** Collects the JSON messages published on a subject. */
function collect(f: NatsFixture, subject: string) {
  const received: Array<{ subject: string; body: any; msg: Msg }> = [];
  f.nc.subscribe(subject, { callback: (error, msg) => {
      if (!error) received.push({ subject: msg.subject, body: msg.json(), msg });
    } });
  return received;
}

describe('NATS subject helpers', () => {
  it('match filters, name agents from subjects and compare server versions', () => {
    expect(subjectCovers('twelve.launch.>', 'twelve.launch.>')).toBe(true);
    expect(subjectCovers('twelve.>', 'twelve.launch.>')).toBe(true);
    expect(subjectCovers('twelve.*.>', 'twelve.launch.refunds')).toBe(true);
    expect(subjectCovers('twelve.launch.*', 'twelve.launch.>')).toBe(false);
    expect(subjectCovers('twelve.launch.>', 'twelve.launch')).toBe(false);
    expect(subjectCovers('other.>', 'twelve.launch.>')).toBe(false);
    expect(agentFromFilter('twelve.launch.>', 'twelve.launch.refunds')).toBe('refunds');
    expect(agentFromFilter('twelve.launch.*', 'twelve.launch.refunds')).toBe('refunds');
    expect(agentFromFilter('twelve.launch.refunds', 'twelve.launch.refunds')).toBeUndefined();
    expect(versionAtLeast('2.9.10', '2.10.4')).toBe(false);
    expect(versionAtLeast('2.10.4', '2.10.4')).toBe(true);
    expect(versionAtLeast('2.11.0', '2.10.4')).toBe(true);
    expect(versionAtLeast(undefined, '2.10.4')).toBe(false);
  });
});

describe.skipIf(Boolean(skipReason))(`NATS JetStream trigger${skipReason ? ` (SKIPPED: ${skipReason})` : ` (${natsUrl})`}`, () => {
  it('a published launch creates exactly one thread, acked after the commit, and it runs to completion', async () => {
    const f = await natsFixture();
    const { runtime } = makeRuntime({ agents: [echoAgent], models: echoModels() });
    const t = await trigger(f, runtime);
    // The trigger created the stream and a durable pull consumer with explicit acks.
    const consumer = await f.jsm.consumers.info(f.stream, f.durable);
    expect(consumer.config).toMatchObject({ durable_name: f.durable, ack_policy: 'explicit', max_deliver: 5, filter_subject: f.subject, ack_wait: 1_000_000_000 });
    expect(consumer.config.deliver_subject).toBeUndefined();

    const pub = await f.publish(`${f.prefix}.echo`, { agent: 'echo', input: 'hello', metadata: { ticket: 'T-1' } });
    const [acked] = await t.acked(1);
    expect(acked).toMatchObject({ created: true, confirmed: true, messageId: `nats:${f.stream}:${pub.seq}`, streamSequence: pub.seq, deliveryCount: 1 });

    const threads = await runtime.listThreads();
    expect(threads).toHaveLength(1);
    expect(threads[0]!.id).toBe(acked!.threadId);
    expect(threads[0]!.launchKey).toBe(`nats:${f.stream}:${pub.seq}`);
    expect(await consumerState(f.jsm, f.stream, f.durable)).toMatchObject({ pending: 0, ackPending: 0, redelivered: 0 });

    const worker = runtime.startWorker({ pollMs: 50 });
    const done = await waitFor('the thread to complete', async () => {
      const thread = await runtime.getThread(acked!.threadId);
      return thread?.status === 'completed' && thread;
    });
    await worker.stop();
    const events = await runtime.loadEvents(done.id);
    expect(events[0]).toMatchObject({
      type: 'thread_started',
      data: { agent: 'echo', input: 'hello', metadata: { ticket: 'T-1', trigger: 'nats', subject: `${f.prefix}.echo`, messageId: `nats:${f.stream}:${pub.seq}` } },
    });
    expect(events.at(-1)).toMatchObject({ type: 'thread_completed', data: { output: 'echo: hello' } });
    expect(await runtime.listThreads()).toHaveLength(1);
    expect(t.outcomes).toHaveLength(1);

    // stop() drains and closes; a message published afterwards waits in the stream for the next consumer.
    await t.trigger.stop();
    expect(await t.trigger.stopped).toBeUndefined();
    await f.publish(`${f.prefix}.echo`, { input: 'later' });
    await sleep(200);
    expect(t.outcomes).toHaveLength(1);
    expect(await consumerState(f.jsm, f.stream, f.durable)).toMatchObject({ pending: 1, ackPending: 0 });
  });

  it('takes the agent from the subject, uses Nats-Msg-Id as the key, and a duplicate publish is deduped by the server', async () => {
    const f = await natsFixture();
    const { runtime } = makeRuntime({ agents: [echoAgent], models: echoModels() });
    const t = await trigger(f, runtime);
    const first = await f.publish(`${f.prefix}.echo`, { input: 'once' }, { msgId: `order-${f.suffix}` });
    const second = await f.publish(`${f.prefix}.echo`, { input: 'once' }, { msgId: `order-${f.suffix}` });
    expect(first.duplicate).toBe(false);
    expect(second).toMatchObject({ duplicate: true, seq: first.seq });
    const [acked] = await t.acked(1);
    expect(acked).toMatchObject({ created: true, messageId: `order-${f.suffix}` });
    await sleep(300);
    expect(t.outcomes).toHaveLength(1);
    const threads = await runtime.listThreads();
    expect(threads.map((th) => [th.agent, th.launchKey])).toEqual([['echo', `order-${f.suffix}`]]);
  });

  it('a consumer killed between the launch and the ack: the redelivery finds the same thread and is acked, no duplicate', async () => {
    const f = await natsFixture();
    const { runtime, dbFile } = makeRuntime({ agents: [echoAgent], models: echoModels() });
    await createStream(f.jsm, f.stream, f.subject, 120_000);
    const msgId = `crash-${f.suffix}`;
    const pub = await f.publish(`${f.prefix}.echo`, { input: 'survive' }, { msgId });

    const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/nats-crash-child.ts'], {
      cwd: repoRoot,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        TWELVE_DATABASE_URL: `sqlite:${dbFile}`,
        NATS_URL: natsUrl,
        NATS_STREAM: f.stream,
        NATS_SUBJECT: f.subject,
        NATS_DURABLE: f.durable,
        NATS_ACK_WAIT_MS: '1000',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
    expect(exit.signal, output).toBe('SIGKILL');
    const [, childThreadId, childCreated] = /launched (\S+) (\S+)/.exec(output) ?? [];
    expect(childCreated, output).toBe('true');

    // Committed by the dead process, never acked: the server still holds the message for the durable.
    const before = await runtime.listThreads();
    expect(before.map((th) => [th.id, th.launchKey, th.status])).toEqual([[childThreadId, msgId, 'runnable']]);
    expect(await consumerState(f.jsm, f.stream, f.durable)).toMatchObject({ ackPending: 1, ackFloor: 0 });

    // The next consumer on the same durable gets the redelivery after AckWait.
    const t = await trigger(f, runtime);
    const [acked] = await t.acked(1);
    expect(acked).toMatchObject({ created: false, threadId: childThreadId, messageId: msgId, streamSequence: pub.seq, confirmed: true });
    expect(acked!.deliveryCount).toBeGreaterThanOrEqual(2);
    expect(await consumerState(f.jsm, f.stream, f.durable)).toMatchObject({ pending: 0, ackPending: 0, ackFloor: pub.seq });

    const worker = runtime.startWorker({ pollMs: 50 });
    await waitFor('the thread to complete', async () => (await runtime.getThread(childThreadId!))?.status === 'completed');
    await worker.stop();
    const threads = await runtime.listThreads();
    expect(threads).toHaveLength(1);
    expect((await runtime.loadEvents(childThreadId!)).filter((e) => e.type === 'thread_started')).toHaveLength(1);
  });

  it('terminates malformed messages and unknown agents with a logged reason: no thread, no redelivery, the consumer goes on', async () => {
    const f = await natsFixture();
    const { runtime } = makeRuntime({ agents: [echoAgent], models: echoModels() });
    const logged: Array<{ level: string; message: string | undefined; reason: unknown }> = [];
    const logger = {
      debug: () => undefined,
      info: () => undefined,
      warn: (o: Record<string, unknown>, message?: string) => logged.push({ level: 'warn', message, reason: o.reason }),
      error: (o: Record<string, unknown>, message?: string) => logged.push({ level: 'error', message, reason: o.error }),
      child: () => logger,
    };
    const t = await trigger(f, runtime, { logger });
    await f.publish(`${f.prefix}.echo`, '{not json', { raw: true });
    await f.publish(`${f.prefix}.echo`, { agent: 'echo' }); // no input
    await f.publish(`${f.prefix}.echo`, { input: 'x', metadata: 'not an object' });
    await f.publish(`${f.prefix}.nobody`, { input: 'x' }); // unknown agent (from the subject)
    await f.publish(`${f.prefix}.echo`, { agent: 'other', input: 'x' }); // body and subject disagree
    await f.publish(`${f.prefix}.echo`, { input: { not: 'a string' } }); // the agent's input schema refuses it
    const terminated = await waitFor('6 terminated messages', () => {
      const list = t.outcomes.filter((o) => o.kind === 'terminated');
      return list.length >= 6 && list;
    });
    const reasons = terminated.map((o) => ('reason' in o ? o.reason : ''));
    expect(reasons[0]).toMatch(/^body is not JSON/);
    expect(reasons[1]).toMatch(/input: required/);
    expect(reasons[2]).toMatch(/metadata/);
    expect(reasons[3]).toMatch(/unknown agent "nobody" \(known: echo\)/);
    expect(reasons[4]).toMatch(/names agent "other" but the subject .* names "echo"/);
    expect(reasons[5]).toMatch(/input for agent echo is invalid/);
    expect(logged.filter((l) => l.level === 'warn' && /terminated/.test(l.message ?? '')).map((l) => l.reason)).toEqual(reasons);

    // Past AckWait (1 s) nothing came back: +TERM was understood (on any server version).
    await sleep(1_600);
    expect(t.outcomes).toHaveLength(6);
    expect(await consumerState(f.jsm, f.stream, f.durable)).toMatchObject({ pending: 0, ackPending: 0, redelivered: 0 });
    expect(await runtime.listThreads()).toHaveLength(0);

    // A good message after the bad ones still launches.
    await f.publish(`${f.prefix}.echo`, { input: 'fine' });
    await t.acked(1);
    expect(await runtime.listThreads()).toHaveLength(1);
  });

  it('a Nats-Msg-Id republished past the dedupe window finds its thread; reused for another input it is terminated', async () => {
    const f = await natsFixture();
    const { runtime } = makeRuntime({ agents: [echoAgent], models: echoModels() });
    await createStream(f.jsm, f.stream, f.subject, 100);
    const replies = collect(f, `twelve-test.${f.suffix}.replies`);
    const t = await trigger(f, runtime, { replySubject: `twelve-test.${f.suffix}.replies` });
    const msgId = `late-${f.suffix}`;
    const first = await f.publish(`${f.prefix}.echo`, { input: 'again' }, { msgId });
    const [one] = await t.acked(1);
    const worker = runtime.startWorker({ pollMs: 50 });
    await waitFor('the reply to the first message', () => replies.length === 1);
    await worker.stop();

    await sleep(250); // past the 100 ms window: the server stores a second message
    const second = await f.publish(`${f.prefix}.echo`, { input: 'again' }, { msgId });
    expect(second.duplicate).toBe(false);
    expect(second.seq).toBe(first.seq + 1);
    const acked = await t.acked(2);
    expect(acked[1]).toMatchObject({ created: false, threadId: one!.threadId, streamSequence: second.seq });
    // Its thread had finished already: the reply is published again (replies are at least once).
    await waitFor('the reply to the republished message', () => replies.length === 2);
    expect(replies.map((r) => r.body)).toEqual([
      { threadId: one!.threadId, messageId: msgId, status: 'completed', output: 'echo: again' },
      { threadId: one!.threadId, messageId: msgId, status: 'completed', output: 'echo: again' },
    ]);

    await sleep(250);
    await f.publish(`${f.prefix}.echo`, { input: 'something else' }, { msgId });
    const conflict = await waitFor('the conflicting message to be terminated', () => t.outcomes.find((o) => o.kind === 'terminated'));
    expect('reason' in conflict && conflict.reason).toMatch(/idempotency key "late-.*" was already used for thread .* with another agent or input/);
    expect(await runtime.listThreads()).toHaveLength(1);
  });

  it('publishes the outcome to replySubject, or to the Twelve-Reply-To header, when the thread completes or is cancelled', async () => {
    const f = await natsFixture();
    const { runtime } = makeRuntime({ agents: [echoAgent], models: echoModels() });
    const replySubject = `twelve-test.${f.suffix}.replies`;
    const replies = collect(f, `${replySubject}.>`);
    const defaults = collect(f, replySubject);
    const t = await trigger(f, runtime, { replySubject });

    // No worker yet: the first thread is cancelled before anything runs it.
    await f.publish(`${f.prefix}.echo`, { input: 'never mind' }, { msgId: `cancel-${f.suffix}` });
    const [cancelled] = await t.acked(1);
    await runtime.cancel(cancelled!.threadId, { by: 'tester', reason: 'changed my mind' });
    await waitFor('the cancellation reply', () => defaults.length === 1);
    expect(defaults[0]!.body).toEqual({
      threadId: cancelled!.threadId,
      messageId: `cancel-${f.suffix}`,
      status: 'cancelled',
      error: { code: 'cancelled', message: 'cancelled by tester: changed my mind' },
    });
    expect(defaults[0]!.msg.headers?.get('Nats-Msg-Id')).toBe(`twelve-reply:${cancelled!.threadId}`);

    const worker = runtime.startWorker({ pollMs: 50 });
    await f.publish(`${f.prefix}.echo`, { input: 'ping' });
    await f.publish(`${f.prefix}.echo`, { input: 'pong' }, { replyTo: `${replySubject}.custom` });
    const acked = await t.acked(3);
    await waitFor('two more replies', () => defaults.length === 2 && replies.length === 1);
    await worker.stop();
    expect(defaults[1]!.body).toMatchObject({ threadId: acked[1]!.threadId, status: 'completed', output: 'echo: ping' });
    expect(replies[0]).toMatchObject({ subject: `${replySubject}.custom`, body: { threadId: acked[2]!.threadId, status: 'completed', output: 'echo: pong' } });
    await sleep(100);
    expect(defaults).toHaveLength(2);
    expect(replies).toHaveLength(1);
  });

  it('publishes the reply whichever process runs the thread, even when no consumer was up as it finished', async () => {
    const f = await natsFixture();
    const consumer = makeRuntime({ agents: [echoAgent], models: echoModels() });
    // Another process on the same store: a worker that has never heard of NATS.
    const elsewhere = makeRuntime({ agents: [echoAgent], models: echoModels(), dir: consumer.dir });
    const replySubject = `twelve-test.${f.suffix}.replies`;
    const replies = collect(f, replySubject);
    const first = await trigger(f, consumer.runtime, { replySubject });
    await f.publish(`${f.prefix}.echo`, { input: 'ping' }, { msgId: `elsewhere-${f.suffix}` });
    const [acked] = await first.acked(1);
    // The consumer stops before anything runs the thread: no process that saw the message is up when it ends.
    await first.trigger.stop();
    const worker = elsewhere.runtime.startWorker({ pollMs: 50 });
    await waitFor('the thread to complete in the other process', async () => (await elsewhere.runtime.getThread(acked!.threadId))?.status === 'completed');
    expect(replies).toHaveLength(0);

    // Any consumer that starts publishes what is due in the store, and so for every thread the other process finishes.
    const second = await trigger(f, consumer.runtime, { replySubject });
    await waitFor('the reply of the thread finished while no consumer was up', () => replies.length === 1);
    expect(replies[0]!.body).toEqual({ threadId: acked!.threadId, messageId: `elsewhere-${f.suffix}`, status: 'completed', output: 'echo: ping' });
    expect(replies[0]!.msg.headers?.get('Nats-Msg-Id')).toBe(`twelve-reply:${acked!.threadId}`);
    await f.publish(`${f.prefix}.echo`, { input: 'pong' }, { msgId: `elsewhere-2-${f.suffix}` });
    const [next] = await second.acked(1);
    await waitFor('the reply of a thread the other process ran', () => replies.length === 2);
    await worker.stop();
    expect(replies[1]!.body).toMatchObject({ threadId: next!.threadId, status: 'completed', output: 'echo: pong' });
    expect((await consumer.runtime.listThreads()).every((t) => t.status === 'completed')).toBe(true);
    await sleep(300);
    expect(replies).toHaveLength(2);
    // Each reply is on record as delivered, like a notification.
    const attempts = await consumer.runtime.store.listDeliveryAttempts(`reply:${acked!.threadId}`);
    expect(attempts).toMatchObject([{ attempt: 1, ok: true, url: `nats:${replySubject}` }]);
  });

  it('extends a stream that does not cover the subject, and refuses a durable that does not fit', async () => {
    const f = await natsFixture();
    const { runtime } = makeRuntime({ agents: [echoAgent], models: echoModels() });
    const other = `twelve-test.${f.suffix}.other`;
    await f.jsm.streams.add({ name: f.stream, subjects: [other] });
    await f.jsm.consumers.add(f.stream, { durable_name: `${f.durable}-push`, ack_policy: AckPolicy.Explicit, deliver_subject: `twelve-test.${f.suffix}.push` });
    await f.jsm.consumers.add(f.stream, { durable_name: `${f.durable}-other`, ack_policy: AckPolicy.Explicit, filter_subject: other });

    const refusal = (durable: string) =>
      startNatsTrigger({ runtime, servers: natsUrl, stream: f.stream, subject: f.subject, durable }).then(
        (t) => (f.track(t), 'started'),
        (error: Error & { code?: string }) => `${error.code}: ${error.message}`,
      );
    expect(await refusal(`${f.durable}-push`)).toMatch(/^config_invalid: .*cannot be used: it is a push consumer/);
    expect(await refusal(`${f.durable}-other`)).toMatch(/^config_invalid: .*cannot be used: it filters "twelve-test\..*\.other", not "twelve-test\..*\.launch\.>"/);
    // The failed starts added the launch subject to the stream (kept: it is what the next start needs).
    expect((await f.jsm.streams.info(f.stream)).config.subjects).toEqual([other, f.subject]);

    const t = await trigger(f, runtime);
    await f.publish(`${f.prefix}.echo`, { input: 'fits' });
    await t.acked(1);
    expect(await runtime.listThreads()).toHaveLength(1);

    const unreachable = await startNatsTrigger({ runtime, servers: 'nats://127.0.0.1:1', stream: f.stream, subject: f.subject, durable: f.durable }).catch((error: Error & { code?: string }) => error);
    expect(unreachable).toMatchObject({ code: 'config_invalid', message: expect.stringMatching(/^cannot connect to NATS at nats:\/\/127\.0\.0\.1:1: /) });
  });

  it('twelve consume nats: the CLI consumes and runs threads until SIGTERM, then drains', async () => {
    const f = await natsFixture();
    const { dir } = makeRuntime({ agents: [echoAgent], models: echoModels() }); // only for its temp folder
    await createStream(f.jsm, f.stream, f.subject, 120_000);
    const replies = collect(f, `twelve-test.${f.suffix}.replies`);
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/nats-cli.ts', 'consume', 'nats', '--subject', f.subject, '--stream', f.stream, '--durable', f.durable], {
      cwd: repoRoot,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        NO_COLOR: '1',
        TWELVE_DATABASE_URL: `sqlite:${join(dir, 'cli.db')}`,
        TWELVE_MODEL_MODE: 'replay',
        REFUNDS_LEDGER_PATH: join(dir, 'ledger.db'),
        TWELVE_NATS_URL: natsUrl,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stdout.on('data', () => undefined);
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
    try {
      await waitFor('the consumer to start', () => /twelve consume .* -> .*refunds/.test(stderr), 20_000);
      const input = readFileSync(join(repoRoot, 'examples/refunds/sample-request.txt'), 'utf8').trim();
      await f.publish(`${f.prefix}.refunds`, { input }, { msgId: `cli-${f.suffix}`, replyTo: `twelve-test.${f.suffix}.replies` });
      await f.publish(`${f.prefix}.refunds`, 'garbage', { raw: true });
      await waitFor('the reply', () => replies.length === 1, 20_000);
      expect(replies[0]!.body).toMatchObject({ messageId: `cli-${f.suffix}`, status: 'completed', output: { decision: 'refunded', orderId: 'A-1001' } });
      await waitFor('the bad message to be reported', () => /message terminated .*body is not JSON/.test(stderr));
    } finally {
      child.kill('SIGTERM');
    }
    const exit = await exited;
    expect(exit, stderr).toEqual({ code: 0, signal: null });
    expect(stderr).toMatch(/draining/);
    expect(await consumerState(f.jsm, f.stream, f.durable)).toMatchObject({ pending: 0, ackPending: 0 });
  });
});
