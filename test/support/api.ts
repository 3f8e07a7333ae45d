/**
 * The HTTP API for integration tests: the REAL server (startServer, node:http on 127.0.0.1
 * and an ephemeral port) over a runtime on a SQLite file in a temp folder, with API keys of
 * each role, scripted agents, and a small fetch helper. Closed when the test ends (the server
 * first, then the runtime and its workers).
 */
import { join } from 'node:path';
import { onTestFinished } from 'vitest';
import { z } from 'zod';
import { askHuman, createRuntime, defineAgent, type Agent, type Runtime, type RuntimeOptions, type ScriptedReply } from '../../src/index.js';
import { DestinationPolicy, parseDestinationRules } from '../../src/notify/destination.js';
import type { ApiKey } from '../../src/server/auth.js';
import { startServer, type RunningServer, type StartServerOptions } from '../../src/server/serve.js';
import { gate, payTool, scriptedAgent, stepModel, userTexts } from './hitl.js';
import { testEnv } from './runtime.js';
import { tempDir } from './temp-dir.js';

/** One key per role, and one with all of them. Names are what the log records as the decider. */
export const keys = {
  ops: { name: 'ops-bot', roles: ['operator'], key: 'tw_test_ops_4b1f0c9e27d35a86' },
  fiona: { name: 'fiona@example.com', roles: ['approver'], key: 'tw_test_fiona_9d2e7a41c05b38f6' },
  reader: { name: 'dashboard', roles: ['reader'], key: 'tw_test_reader_1a6c3f8e52d09b47' },
  admin: { name: 'admin', roles: ['reader', 'operator', 'approver'], key: 'tw_test_admin_7e4b2d9a10c6f358' },
} satisfies Record<string, ApiKey>;

export type KeyName = keyof typeof keys;

export const hookSecret = 'whsec_test_3c9a1e7f5b2d8046';

/**
 * The agents the API tests run (scripted, instant, deterministic):
 * - `payer`: pays the amount in its input ("pay 250"); above 100 the payment waits for approval
 *   by `finance` (a role that TWELVE_HUMANS gives fiona@example.com); then answers "paid".
 * - `asker`: asks a person a question, then answers with what they said.
 * - `echo`: answers at once with its input.
 * - `gated`: calls a tool that blocks until the test opens `gated.open` (for streams mid-way).
 */
export function apiAgents() {
  const pay = payTool({ approval: ({ amount }) => amount > 100, approvers: ['finance'] });
  const gatedGate = gate();
  const gatedTool = payTool({ name: 'slow_pay', run: async (input) => (await gatedGate.promise, { paid: input.amount }) });
  const amountOf = (request: Parameters<typeof userTexts>[0]) => Number(/pay (\d+)/.exec(userTexts(request).join(' '))?.[1] ?? 1);
  const payer = scriptedAgent({ name: 'payer', tools: [pay.tool], limits: { maxSteps: 6 } });
  const asker = scriptedAgent({ name: 'asker', purpose: 'Asks a person, for tests', tools: [askHuman({ answerers: [] })] });
  const echo = defineAgent({ name: 'echo', purpose: 'Echoes its input, for tests', model: 'scripted:echo', prompt: { text: 'Echo {{input}}' } });
  const structured = defineAgent({
    name: 'structured',
    purpose: 'Takes a structured input, for tests',
    model: 'scripted:echo',
    prompt: { text: 'Order {{input.orderId}}' },
    input: z.object({ orderId: z.string().regex(/^A-\d{4}$/), amount: z.number().int().positive() }),
  });
  const gated = scriptedAgent({ name: 'gated', tools: [gatedTool.tool] });
  const models = {
    'scripted:payer': stepModel((step, request) => (step === 0 ? { toolCalls: [{ tool: 'pay', args: { amount: amountOf(request) } }] } : { text: 'paid' })),
    'scripted:asker': stepModel((step) =>
      step === 0 ? { toolCalls: [{ tool: 'ask_human', args: { question: 'Which colour?', options: ['red', 'blue'] } }] } : { text: 'noted' },
    ),
    'scripted:echo': stepModel((_step, request) => ({ text: `echo: ${userTexts(request).join(' ').slice(0, 200)}` } satisfies ScriptedReply)),
    'scripted:gated': stepModel((step) =>
      step < 2 ? { toolCalls: [{ tool: 'slow_pay', args: { amount: step + 1 } }] } : { text: 'done' },
    ),
  };
  return { agents: [payer, asker, echo, structured, gated] as Agent[], models, pay, gate: gatedGate, gatedTool };
}

export interface TestApi {
  url: string;
  server: RunningServer;
  runtime: Runtime;
  dir: string;
  dbFile: string;
  env: NodeJS.ProcessEnv;
  /** A fetch with `key` as the bearer key (or none); JSON in and out. */
  call(method: string, path: string, options?: CallOptions): Promise<ApiResponse>;
}

export interface CallOptions {
  key?: KeyName | string | null;
  /** A JSON value (serialised) or a raw string (sent as it is). */
  body?: unknown;
  raw?: string | Uint8Array;
  headers?: Record<string, string>;
}

export interface ApiResponse {
  status: number;
  headers: Headers;
  text: string;
  body: any;
}

export interface StartApiOptions extends Partial<Pick<RuntimeOptions, 'agents' | 'models' | 'logger' | 'modelMode'>> {
  /** Run a background worker in the server process (like `twelve dev`). */
  worker?: boolean;
  env?: NodeJS.ProcessEnv;
  hookSecrets?: Map<string, string>;
  apiKeys?: ApiKey[];
  dir?: string;
  /** Serve the web console too (its files, and its fall-through for unknown paths). */
  console?: boolean;
  /** TWELVE_HOOK_CALLBACK_URLS entries (callbacks to 127.0.0.1 need one naming it). */
  callbackUrls?: string[];
  /** Passed to startServer as they are. */
  server?: Pick<StartServerOptions, 'limits' | 'authThrottle' | 'bootKey' | 'host' | 'notifications' | 'callbackPolicy' | 'projectDir'>;
}

/** The real server over a fresh runtime; call inside a test. */
export async function startApi(options: StartApiOptions = {}): Promise<TestApi & ReturnType<typeof apiAgents>> {
  const fixtures = apiAgents();
  const dir = options.dir ?? tempDir();
  const dbFile = join(dir, 'twelve.db');
  const env = testEnv({ dbFile, extra: { TWELVE_HUMANS: 'fiona@example.com=finance', ...options.env } });
  const runtime = createRuntime({
    agents: options.agents ?? fixtures.agents,
    models: options.models ?? fixtures.models,
    retryBaseMs: 1,
    env,
    ...(options.logger ? { logger: options.logger } : {}),
    ...(options.modelMode ? { modelMode: options.modelMode } : {}),
  });
  let server: RunningServer;
  try {
    server = await startServer({
      runtime,
      host: '127.0.0.1',
      port: 0,
      apiKeys: options.apiKeys ?? Object.values(keys),
      hookSecrets: options.hookSecrets ?? new Map([['echo', hookSecret], ['structured', hookSecret]]),
      ...(options.console ? { console: true } : {}),
      ...(options.callbackUrls ? { callbackPolicy: new DestinationPolicy({ rules: parseDestinationRules(options.callbackUrls.join(',')) }) } : {}),
      ...options.server,
    });
  } catch (error) {
    await runtime.close();
    throw error;
  }
  if (options.worker) runtime.startWorker({ concurrency: 4, pollMs: 50 });
  onTestFinished(async () => {
    fixtures.gate.resolve(); // never leave a tool blocked
    await server.close();
    await runtime.close();
  });
  const url = server.url;
  const call = async (method: string, path: string, callOptions: CallOptions = {}): Promise<ApiResponse> => {
    const headers: Record<string, string> = { ...callOptions.headers };
    const key = callOptions.key === undefined ? 'admin' : callOptions.key;
    if (key !== null) headers.authorization = `Bearer ${key in keys ? keys[key as KeyName].key : key}`;
    let body: string | Uint8Array | undefined;
    if (callOptions.raw !== undefined) body = callOptions.raw;
    else if (callOptions.body !== undefined) {
      body = JSON.stringify(callOptions.body);
      headers['content-type'] ??= 'application/json';
    }
    const response = await fetch(`${url}${path}`, { method, headers, ...(body !== undefined ? { body } : {}) });
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    return { status: response.status, headers: response.headers, text, body: parsed };
  };
  return { url, server, runtime, dir, dbFile, env, call, ...fixtures };
}

/** Polls the thread over HTTP until its status is one of `statuses`. */
export async function waitForStatus(api: TestApi, threadId: string, statuses: string[], timeoutMs = 10_000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { body } = await api.call('GET', `/v1/threads/${threadId}`, { key: 'reader' });
    if (statuses.includes(body?.thread?.status ?? body?.status)) return body;
    if (Date.now() > deadline) throw new Error(`thread ${threadId} is ${body?.status}, not ${statuses.join('|')}, after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** One message of a Server-Sent Events stream. */
export interface SseMessage {
  id?: string;
  event?: string;
  data: string;
}

/**
 * Reads a text/event-stream response message by message (a minimal parser of the SSE
 * format: fields, comments, blank-line dispatch), independent of the client under test.
 */
export async function* readSse(response: Response): AsyncGenerator<SseMessage> {
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  let message: SseMessage = { data: '' };
  let hasData = false;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value;
      let newline: number;
      while ((newline = buffer.search(/\r\n|\r|\n/)) >= 0) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + (buffer.startsWith('\r\n', newline) ? 2 : 1));
        if (line === '') {
          if (hasData || message.event) yield message;
          message = { data: '' };
          hasData = false;
          continue;
        }
        if (line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'data') {
          message.data = hasData ? `${message.data}\n${value}` : value;
          hasData = true;
        } else if (field === 'event') message.event = value;
        else if (field === 'id') message.id = value;
      }
    }
  } finally {
    reader.releaseLock();
  }
}
