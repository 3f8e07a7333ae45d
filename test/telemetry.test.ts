/**
 * OpenTelemetry traces against a real OTLP/HTTP endpoint on 127.0.0.1: the spans of a thread
 * (segment, step, model call with the GenAI attributes, tool call), a traceparent joining an API
 * server process and a `twelve worker` process into one trace, a wait for a person as a link,
 * message content only on request (and redacted), and no SDK loaded at all when tracing is off.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ATTR_GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS, ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS } from '@opentelemetry/semantic-conventions/incubating';
import { askHuman, scriptedModel } from '../src/index.js';
import { eventually, repoRoot, runCli } from './support/cli.js';
import { hookSecret, startApi } from './support/api.js';
import { startNatsTrigger } from '../src/triggers/nats.js';
import { echoAgent, echoModels } from './support/nats-agent.js';
import { natsFixture, natsSkipReason, natsUrl, waitFor } from './support/nats.js';
import { signWebhook } from '../src/notify/webhook.js';
import { scriptedAgent, stepModel, userTexts } from './support/hitl.js';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from './support/otlp-receiver.js';
import { makeRuntime, startServer, testApiKey } from './support/runtime.js';
import { tempDir } from './support/temp-dir.js';
import type { ScriptedServer } from './support/scripted-openai-server.js';
import slowAgent from './fixtures/slow-tool-agent.js';

const callerTrace = '0af7651916cd43dd8448eb211c80319c';
const callerSpan = 'b7ad6b7169203331';

function otelEnv(receiver: OtlpReceiver, service: string): NodeJS.ProcessEnv {
  return { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_SERVICE_NAME: service, OTEL_BSP_SCHEDULE_DELAY: '20' };
}

/** The model calls `slow` once with `label`, then answers "done". */
function playSlowTool(server: ScriptedServer, label = 'x') {
  server.setFallback((request) => {
    const messages = (request.body?.messages ?? []) as Array<{ role: string }>;
    return messages.some((m) => m.role === 'tool') ? { text: 'done' } : { toolCalls: [{ name: 'slow', arguments: { label } }] };
  });
}

const natsSkip = await natsSkipReason();

const named = (name: string) => (span: ReceivedSpan) => span.name === name;

describe('OpenTelemetry traces', () => {
  it('exports a segment, its steps, the model call with GenAI attributes and the tool call, as parent and children', async () => {
    const receiver = await startOtlpReceiver();
    const server = await startServer();
    playSlowTool(server);
    const { runtime } = makeRuntime({ agents: [slowAgent], server, env: { ...otelEnv(receiver, 'in-process'), SLOW_TOOL_MS: '1' } });
    const thread = await runtime.launch({ agent: 'slow-tool', input: 'go', trace: { traceparent: `00-${callerTrace}-${callerSpan}-01` } });
    expect((await runtime.runThread(thread.id)).outcome).toBe('completed');
    const release = runtime.release('slow-tool');

    const segment = await receiver.waitFor(named('invoke_agent slow-tool'));
    const launch = await receiver.waitFor(named('launch slow-tool'));
    const chats = await eventually(() => receiver.spans.filter(named('chat gpt-4o-2024-08-06')).length === 2 && receiver.spans.filter(named('chat gpt-4o-2024-08-06')));
    const tool = await receiver.waitFor(named('execute_tool slow'));
    expect(launch).toMatchObject({ traceId: callerTrace, parentSpanId: callerSpan, resource: { 'service.name': 'in-process' } });
    expect(segment).toMatchObject({
      traceId: callerTrace,
      parentSpanId: launch.spanId,
      attributes: { 'gen_ai.agent.name': 'slow-tool', 'gen_ai.agent.version': release.releaseId, 'twelve.thread.id': thread.id, 'twelve.outcome': 'completed' },
    });
    const steps = receiver.spans.filter((span) => span.name.startsWith('step '));
    expect(steps.map((s) => s.name)).toEqual(['step callModel', 'step runTool', 'step callModel']);
    for (const step of steps) expect(step).toMatchObject({ traceId: callerTrace, parentSpanId: segment.spanId });
    const [first] = chats as ReceivedSpan[];
    expect(first!.parentSpanId).toBe(steps[0]!.spanId);
    expect(first!.kind).toBe(3); // CLIENT
    expect(first!.attributes).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'gpt-4o-2024-08-06',
      'gen_ai.response.model': expect.any(String),
      'gen_ai.usage.input_tokens': expect.any(Number),
      'gen_ai.usage.output_tokens': expect.any(Number),
      'gen_ai.agent.name': 'slow-tool',
      'gen_ai.agent.version': release.releaseId,
      'twelve.thread.id': thread.id,
      'twelve.seq': 2,
      'twelve.fallback.index': 0,
      'twelve.retries': 0,
      'twelve.cost_usd': expect.any(Number),
    });
    const requested = (await runtime.loadEvents(thread.id)).find((e) => e.type === 'tool_requested')!;
    expect(tool.parentSpanId).toBe(steps[1]!.spanId);
    expect(tool.attributes).toMatchObject({ 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'slow', 'gen_ai.tool.call.id': (requested.data as { callId: string }).callId, 'twelve.attempt': 1 });
    // Content is not captured unless asked for.
    for (const span of receiver.spans) expect(Object.keys(span.attributes).filter((key) => /messages|arguments|result/.test(key))).toEqual([]);
  });

  it('records a failed model call as an error span with its retries', async () => {
    const receiver = await startOtlpReceiver();
    const server = await startServer();
    server.setFallback(() => ({ status: 500, body: { error: { message: 'upstream down' } } }) as never);
    const { runtime } = makeRuntime({ agents: [slowAgent], server, env: otelEnv(receiver, 'failing') });
    const thread = await runtime.launch({ agent: 'slow-tool', input: 'go' });
    await runtime.runThread(thread.id);
    const chat = await receiver.waitFor(named('chat gpt-4o-2024-08-06'));
    expect(chat.status.code).toBe(2); // ERROR
    expect(chat.attributes['error.type']).toBe('model_call_failed');
    expect(chat.events.some((e) => e.name === 'exception')).toBe(true);
    // Launched without a trace: the thread's spans still share one trace of its own.
    const segments = await eventually(() => receiver.spans.filter(named('invoke_agent slow-tool')).length > 0 && receiver.spans.filter(named('invoke_agent slow-tool')));
    expect(new Set([...(segments as ReceivedSpan[]), chat].map((s) => s.traceId)).size).toBe(1);
  });

  it('captures message content only when asked, through the redactor', async () => {
    const receiver = await startOtlpReceiver();
    const server = await startServer();
    // The model echoes a secret into the tool's arguments: the span must not carry it.
    // The user's patterns apply too (the view redactor), in the messages and in the tool call.
    playSlowTool(server, `key ${testApiKey} order A-1001`);
    const env = { ...otelEnv(receiver, 'content'), SLOW_TOOL_MS: '1', TWELVE_TRACE_CONTENT: '1', TWELVE_REDACT_PATTERNS: '/A-1001/,email' };
    const { runtime } = makeRuntime({ agents: [slowAgent], server, env });
    const thread = await runtime.launch({ agent: 'slow-tool', input: 'go A-1001 jane@example.com' });
    expect((await runtime.runThread(thread.id)).outcome).toBe('completed');
    const tool = await receiver.waitFor(named('execute_tool slow'));
    const chat = await receiver.waitFor((s) => s.name.startsWith('chat ') && String(s.attributes['gen_ai.output.messages']).includes('tool_call'));
    expect(String(chat.attributes['gen_ai.input.messages'])).toContain('go');
    expect(String(chat.attributes['gen_ai.output.messages'])).toContain('[redacted]');
    expect(String(tool.attributes['gen_ai.tool.call.arguments'])).toContain('[redacted]');
    expect(String(tool.attributes['gen_ai.tool.call.result'])).toContain('done key [redacted]');
    expect(JSON.stringify(receiver.spans)).not.toContain(testApiKey);
    expect(JSON.stringify(receiver.spans)).not.toContain('A-1001');
    expect(JSON.stringify(receiver.spans)).not.toContain('jane@example.com');
  });

  it('shows a wait for a person as a link from the resuming segment to where the wait began', async () => {
    const receiver = await startOtlpReceiver();
    const asker = scriptedAgent({ name: 'asker', tools: [askHuman({ answerers: [] })] });
    const models = { 'scripted:asker': stepModel((step) => (step === 0 ? { toolCalls: [{ tool: 'ask_human', args: { question: 'Which colour?' } }] } : { text: 'noted' })) };
    const { runtime } = makeRuntime({ agents: [asker], models, env: otelEnv(receiver, 'waits') });
    const thread = await runtime.launch({ agent: 'asker', input: 'go' });
    expect((await runtime.runThread(thread.id)).outcome).toBe('awaiting_human');
    await runtime.answer(thread.id, { by: 'alice', answer: 'blue' });
    expect((await runtime.runThread(thread.id)).outcome).toBe('completed');
    const segments = (await eventually(() => receiver.spans.filter(named('invoke_agent asker')).length === 2 && receiver.spans.filter(named('invoke_agent asker')))) as ReceivedSpan[];
    const [before, after] = segments.sort((a, b) => Number(a.attributes['twelve.seq']) - Number(b.attributes['twelve.seq']));
    const wait = await receiver.waitFor(named('wait awaiting_human'));
    expect(wait.parentSpanId).toBe(before!.spanId);
    expect(before!.attributes['twelve.outcome']).toBe('awaiting_human');
    expect(after!.links).toEqual([{ traceId: before!.traceId, spanId: wait.spanId, attributes: { 'twelve.link': 'resumed_after_wait', 'twelve.seq': wait.attributes['twelve.seq'] } }]);
    expect(after!.traceId).toBe(before!.traceId);
    expect(before!.links).toEqual([]);
  });

  it('puts the prompt-cache reads and writes on the model call span, only when the call touched the cache', async () => {
    const receiver = await startOtlpReceiver();
    const cacher = scriptedAgent({ name: 'cacher' });
    const cached = { inputTokens: 1200, outputTokens: 300, cachedInputTokens: 1024, cacheWriteTokens: 150 };
    const models = { 'scripted:cacher': scriptedModel((request) => (userTexts(request).join(' ').includes('warm') ? { text: 'hit', usage: cached } : { text: 'miss', usage: { inputTokens: 40, outputTokens: 5 } })) };
    const { runtime } = makeRuntime({ agents: [cacher], models, env: otelEnv(receiver, 'cache') });
    for (const input of ['warm', 'cold']) {
      const thread = await runtime.launch({ agent: 'cacher', input });
      expect((await runtime.runThread(thread.id)).outcome).toBe('completed');
    }
    const chats = (await eventually(() => receiver.spans.filter(named('chat cacher')).length === 2 && receiver.spans.filter(named('chat cacher')))) as ReceivedSpan[];
    const warm = chats.find((span) => span.attributes['gen_ai.usage.output_tokens'] === 300)!;
    const cold = chats.find((span) => span.attributes['gen_ai.usage.output_tokens'] === 5)!;
    // The names the GenAI semantic conventions define (incubating entry of the package).
    expect(warm.attributes).toMatchObject({
      'gen_ai.usage.input_tokens': 1200,
      [ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS]: 1024,
      [ATTR_GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS]: 150,
    });
    expect(cold.attributes['gen_ai.usage.input_tokens']).toBe(40);
    expect(Object.keys(cold.attributes).filter((key) => key.includes('cache'))).toEqual([]);
  });

  it('joins the API server process and a twelve worker process in one trace from the caller traceparent', async () => {
    const receiver = await startOtlpReceiver();
    const server = await startServer();
    playSlowTool(server);
    const api = await startApi({ agents: [slowAgent], hookSecrets: new Map(), env: { ...otelEnv(receiver, 'api'), OPENAI_BASE_URL: server.baseURL } });
    const launched = await api.call('POST', '/v1/threads', { key: 'ops', body: { agent: 'slow-tool', input: 'go' }, headers: { traceparent: `00-${callerTrace}-${callerSpan}-01`, tracestate: 'vendor=1' } });
    expect(launched.status).toBe(201);
    const threadId = launched.body.thread.id as string;
    const started = (await api.runtime.loadEvents(threadId))[0]!;
    const launch = await receiver.waitFor(named('launch slow-tool'));
    expect(started.data).toMatchObject({ trace: { traceparent: `00-${callerTrace}-${launch.spanId}-01`, tracestate: 'vendor=1' } });

    const worker = spawn(process.execPath, [join(repoRoot, 'bin/twelve.js'), 'worker', '--config', 'test/fixtures/slow-tool-agent.ts'], {
      cwd: repoRoot,
      // A batch delay longer than the test: the spans arrive only because the worker flushes them as it drains on SIGTERM.
      env: { ...process.env, NO_COLOR: '1', ...api.env, ...otelEnv(receiver, 'worker'), OTEL_BSP_SCHEDULE_DELAY: '600000', OPENAI_BASE_URL: server.baseURL, SLOW_TOOL_MS: '1', TWELVE_POLL_MS: '50' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    worker.stderr.on('data', (chunk) => (stderr += chunk));
    const exited = new Promise<number | null>((resolve) => worker.on('close', resolve));
    try {
      await eventually(async () => (await api.runtime.getThread(threadId))?.status === 'completed', 45_000).catch((error) => {
        throw new Error(`${error.message}\nworker stderr:\n${stderr}`);
      });
      expect(receiver.spans.filter((s) => s.resource['service.name'] === 'worker')).toEqual([]); // still batched in the worker
      worker.kill('SIGTERM');
      expect(await exited).toBe(0);
      const segment = await receiver.waitFor((s) => s.name === 'invoke_agent slow-tool' && s.attributes['twelve.outcome'] === 'completed');
      const tool = await receiver.waitFor(named('execute_tool slow'));
      const chats = (await eventually(() => receiver.spans.filter((s) => s.name.startsWith('chat ')).length === 2 && receiver.spans.filter((s) => s.name.startsWith('chat ')))) as ReceivedSpan[];
      expect(launch).toMatchObject({ traceId: callerTrace, parentSpanId: callerSpan, resource: { 'service.name': 'api' } });
      expect(segment).toMatchObject({ traceId: callerTrace, parentSpanId: launch.spanId, resource: { 'service.name': 'worker' }, attributes: { 'twelve.thread.id': threadId } });
      const steps = receiver.spans.filter((s) => s.name.startsWith('step '));
      for (const span of [...steps, ...chats, tool]) expect(span).toMatchObject({ traceId: callerTrace, resource: { 'service.name': 'worker' } });
      for (const step of steps) expect(step.parentSpanId).toBe(segment.spanId);
      const stepIds = new Set(steps.map((s) => s.spanId));
      for (const span of [...chats, tool]) expect(stepIds.has(span.parentSpanId)).toBe(true);
    } finally {
      worker.kill('SIGTERM');
      await exited;
    }
  }, 30_000);

  it('stores the caller traceparent as it is where the launching process does not trace, from the API and from a webhook; ignores an invalid one', async () => {
    const api = await startApi();
    const traceparent = `00-${callerTrace}-${callerSpan}-01`;
    const launched = await api.call('POST', '/v1/threads', { key: 'ops', body: { agent: 'echo', input: 'hi' }, headers: { traceparent } });
    expect((await api.runtime.loadEvents(launched.body.thread.id))[0]!.data).toMatchObject({ trace: { traceparent } });
    const body = JSON.stringify({ input: 'hello' });
    const signature = signWebhook({ secret: hookSecret, body, direction: 'inbound', event: 'launch.echo', delivery: 'dlv_trace' });
    const hooked = await api.call('POST', '/v1/hooks/echo', { key: null, raw: body, headers: { 'content-type': 'application/json', 'x-twelve-signature': signature, 'x-twelve-delivery': 'dlv_trace', traceparent, tracestate: 'a=b' } });
    expect(hooked.status).toBe(202);
    expect((await api.runtime.loadEvents(hooked.body.threadId))[0]!.data).toMatchObject({ trace: { traceparent, tracestate: 'a=b' } });
    const bad = await api.call('POST', '/v1/threads', { key: 'ops', body: { agent: 'echo', input: 'hi' }, headers: { traceparent: `00-${'0'.repeat(32)}-${callerSpan}-01` } });
    expect((await api.runtime.loadEvents(bad.body.thread.id))[0]!.data).not.toHaveProperty('trace');
  });

  it.skipIf(natsSkip)('stores the traceparent header of a NATS launch message with the thread, and its spans join that trace', async () => {
    const receiver = await startOtlpReceiver();
    const f = await natsFixture();
    const { runtime } = makeRuntime({ agents: [echoAgent], models: echoModels(), env: otelEnv(receiver, 'nats') });
    f.track(await startNatsTrigger({ runtime, servers: natsUrl, stream: f.stream, subject: f.subject, durable: f.durable, ackWaitMs: 1_000, maxDeliver: 5 }));
    await f.publish(`${f.prefix}.echo`, { input: 'hello' }, { headers: { traceparent: `00-${callerTrace}-${callerSpan}-01` } });
    const [thread] = await waitFor('the launched thread', async () => {
      const threads = await runtime.listThreads();
      return threads.length > 0 && threads;
    });
    const launch = await receiver.waitFor(named('launch echo'));
    expect(launch).toMatchObject({ traceId: callerTrace, parentSpanId: callerSpan });
    expect((await runtime.loadEvents(thread!.id))[0]!.data).toMatchObject({ trace: { traceparent: `00-${callerTrace}-${launch.spanId}-01` } });
    expect((await runtime.runThread(thread!.id)).outcome).toBe('completed');
    expect(await receiver.waitFor(named('invoke_agent echo'))).toMatchObject({ traceId: callerTrace, parentSpanId: launch.spanId });
  });

  it('does not hold a run on a collector that is down: the flush is bounded and says so once', async () => {
    const dir = tempDir();
    const run = await runCli(['run', 'email-classifier', '--input', '@examples/email-classifier/sample-email.txt'], {
      env: { TWELVE_DATABASE_URL: `sqlite:${join(dir, 'twelve.db')}`, TWELVE_MODEL_MODE: 'replay', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:1', OTEL_BSP_SCHEDULE_DELAY: '60000' },
    });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('completed');
    expect(run.stderr.match(/traces not flushed within 2 s/g)).toHaveLength(1);
  }, 30_000);

  it('refuses a tracing configuration it cannot follow at start, naming each variable', async () => {
    const { createRuntime } = await import('../src/index.js');
    const env = { TWELVE_DATABASE_URL: `sqlite:${join(tempDir(), 'twelve.db')}`, TWELVE_LOG: 'off', OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318', OTEL_TRACES_SAMPLER: 'sometimes', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' };
    expect(() => createRuntime({ agents: [echoAgent], env })).toThrow(/OTEL_TRACES_SAMPLER: "sometimes"[\s\S]*OTEL_EXPORTER_OTLP_PROTOCOL: "grpc"[\s\S]*OTEL_EXPORTER_OTLP_ENDPOINT: "collector:4318"/);
  });

  it('loads no OpenTelemetry module when no OTEL_* tracing variable is set, and loads it when one is', async () => {
    const loaded = async (env: NodeJS.ProcessEnv) => {
      const script = `
        import { register } from 'node:module';
        import { MessageChannel } from 'node:worker_threads';
        const { port1, port2 } = new MessageChannel();
        const seen = [];
        port1.on('message', (url) => seen.push(url));
        port1.unref();
        const hooks = 'let port; export function initialize(data) { port = data.port } export async function resolve(s, c, next) { const r = await next(s, c); port.postMessage(r.url); return r; }';
        register('data:text/javascript,' + encodeURIComponent(hooks), import.meta.url, { data: { port: port2 }, transferList: [port2] });
        const { createRuntime, defineAgent, scriptedModel } = await import(${JSON.stringify(pathToFileURL(join(repoRoot, 'dist/index.js')).href)});
        const agent = defineAgent({ name: 'echo', purpose: 'Echoes', model: 'scripted:echo', prompt: { text: 'Echo {{input}}' } });
        const runtime = createRuntime({ agents: [agent], models: { 'scripted:echo': scriptedModel([{ text: 'hi' }]) }, env: { ...process.env, TWELVE_LOG: 'off' } });
        const thread = await runtime.launch({ agent: 'echo', input: 'x' });
        const { outcome } = await runtime.runThread(thread.id);
        await runtime.close();
        await new Promise((resolve) => setImmediate(resolve));
        console.log(JSON.stringify({ outcome, otel: seen.filter((url) => url.includes('@opentelemetry')).length, total: seen.length }));
      `;
      const child = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: repoRoot, env: { PATH: process.env.PATH, TWELVE_DATABASE_URL: `sqlite:${join(tempDir(), 'twelve.db')}`, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk) => (stdout += chunk));
      child.stderr.on('data', (chunk) => (stderr += chunk));
      const code = await new Promise((resolve) => child.on('close', resolve));
      if (code !== 0) throw new Error(`child failed (${code}): ${stderr}`);
      return JSON.parse(stdout.trim().split('\n').at(-1)!) as { outcome: string; otel: number; total: number };
    };
    const off = await loaded({});
    expect(off.outcome).toBe('completed');
    expect(off.total).toBeGreaterThan(10); // the hook saw the library's modules
    expect(off.otel).toBe(0);
    // The same script with tracing on: the SDK is loaded (and the spans arrive).
    const receiver = await startOtlpReceiver();
    const on = await loaded(otelEnv(receiver, 'loaded'));
    expect(on.outcome).toBe('completed');
    expect(on.otel).toBeGreaterThan(0);
    await receiver.waitFor(named('invoke_agent echo'));
  });
});
