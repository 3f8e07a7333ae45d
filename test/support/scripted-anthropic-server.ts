/**
 * A small Anthropic Messages API server for tests (POST /v1/messages), in the style of
 * scripted-openai-server.ts: tests enqueue steps (FIFO), each request consumes one, so
 * @ai-sdk/anthropic runs its real HTTP, SSE and parsing path.
 *
 * Prompt caching is simulated unless a step gives its usage (simulatePromptCache below), so a
 * test or a benchmark sees what Anthropic would bill for the breakpoints a request marks.
 */
import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { bodyServer, listenOnLoopback } from './loopback.js';

export interface AnthropicUsage {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens?: number;
  cache_read_input_tokens?: number;
}

export interface AnthropicTextStep {
  text: string;
  usage?: AnthropicUsage;
}

export interface AnthropicToolUseStep {
  toolCalls: Array<{ id?: string; name: string; input: object }>;
  text?: string;
  usage?: AnthropicUsage;
}

export interface AnthropicErrorStep {
  status: number;
  /** Defaults to Anthropic's error shape. */
  body?: unknown;
  headers?: Record<string, string>;
}

/** Distinguished structurally: `status`, `toolCalls`, else text. */
export type AnthropicStep = AnthropicTextStep | AnthropicToolUseStep | AnthropicErrorStep;

export interface AnthropicRequest {
  path: string;
  headers: IncomingHttpHeaders;
  /** Parsed JSON body; `any` keeps test assertions terse. */
  body: Record<string, any> | undefined;
  /** The usage the response reported. */
  usage?: AnthropicUsage;
}

export interface ScriptedAnthropicServer {
  /** e.g. `http://127.0.0.1:54321/v1`: ANTHROPIC_BASE_URL. */
  readonly baseURL: string;
  readonly requests: AnthropicRequest[];
  enqueue(...steps: AnthropicStep[]): void;
  pendingSteps(): number;
  close(): Promise<void>;
}

/**
 * Where a request body marks `cache_control`, in Anthropic's prefix order:
 * `tools[i]`, `system[i]`, `messages[i].content[j]` (a string content cannot carry one).
 */
export function breakpointsOf(body: Record<string, any> | undefined): string[] {
  return blocksOf(body)
    .filter((block) => block.marked)
    .map((block) => block.path);
}

interface Block {
  path: string;
  /** The block's canonical JSON, without its cache_control (which is not part of the prefix). */
  json: string;
  marked: boolean;
}

/** The request as one sequence of blocks: tools, then system, then each message's content. */
function blocksOf(body: Record<string, any> | undefined): Block[] {
  const blocks: Block[] = [];
  const add = (path: string, value: unknown, extra: object = {}) => {
    const { cache_control: marker, ...rest } = (typeof value === 'object' && value !== null ? value : { text: value }) as Record<string, unknown>;
    blocks.push({ path, json: canonical({ ...extra, ...rest }), marked: marker !== undefined });
  };
  (body?.tools ?? []).forEach((tool: unknown, i: number) => add(`tools[${i}]`, tool));
  const system = body?.system;
  if (typeof system === 'string') add('system', system);
  else (system ?? []).forEach((block: unknown, i: number) => add(`system[${i}]`, block));
  (body?.messages ?? []).forEach((message: { role: string; content: unknown }, i: number) => {
    if (typeof message.content === 'string') add(`messages[${i}]`, message.content, { role: message.role });
    else (message.content as unknown[]).forEach((block, j) => add(`messages[${i}].content[${j}]`, block, { role: message.role }));
  });
  return blocks;
}

/** JSON with sorted keys: the same content is the same text whatever order the client wrote. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    return `{${entries
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The simulated provider cache: prefix hash (model included) -> its tokens. Share one to model a shared cache. */
export type PromptCache = Map<string, number>;

/**
 * Anthropic's prompt cache, simplified. Tokens are ceil(characters / 4) of the blocks' canonical
 * JSON. A prefix is everything up to and including a block marked with cache_control; every
 * marked prefix is remembered. The request reads the longest remembered prefix among its own
 * breakpoints, writes from there to its last breakpoint, and the rest is plain input.
 * Left out: the 1,024-token minimum, the 5-minute expiry, the 20-block lookback from a
 * breakpoint (a read needs a breakpoint exactly where an earlier request put one).
 */
export function simulatePromptCache(cache: PromptCache, body: Record<string, any> | undefined): Omit<AnthropicUsage, 'output_tokens'> {
  const hash = createHash('sha256').update(String(body?.model));
  let chars = 0;
  let read = 0;
  let lastBreakpoint = 0;
  const marked: Array<{ key: string; tokens: number }> = [];
  for (const block of blocksOf(body)) {
    hash.update(block.json).update('\n');
    chars += block.json.length;
    if (!block.marked) continue;
    const key = hash.copy().digest('hex');
    const tokens = Math.ceil(chars / 4);
    if (cache.has(key)) read = Math.max(read, tokens);
    lastBreakpoint = tokens;
    marked.push({ key, tokens });
  }
  for (const { key, tokens } of marked) cache.set(key, tokens);
  const total = Math.ceil(chars / 4);
  const written = Math.max(0, lastBreakpoint - read);
  return { input_tokens: total - read - written, cache_creation_input_tokens: written, cache_read_input_tokens: read };
}

function anthropicError(status: number, message: string) {
  const type = status === 429 ? 'rate_limit_error' : status === 529 ? 'overloaded_error' : status >= 500 ? 'api_error' : 'invalid_request_error';
  return { type: 'error', error: { type, message } };
}

export async function startScriptedAnthropicServer(options: { apiKey?: string; cache?: PromptCache } = {}): Promise<ScriptedAnthropicServer> {
  const queue: AnthropicStep[] = [];
  const requests: AnthropicRequest[] = [];
  const cache = options.cache ?? new Map<string, number>();
  let counter = 0;

  const sendJson = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };

  const respond = (recorded: AnthropicRequest, res: ServerResponse, step: AnthropicStep) => {
    if ('status' in step) return sendJson(res, step.status, step.body ?? anthropicError(step.status, `Scripted error (HTTP ${step.status})`), step.headers);
    const text = step.text ?? '';
    const calls = ('toolCalls' in step ? step.toolCalls : []).map((call) => ({ type: 'tool_use' as const, id: call.id ?? `toolu_${++counter}`, name: call.name, input: call.input }));
    const content = [...(text ? [{ type: 'text' as const, text }] : []), ...calls];
    const usage = step.usage ?? { ...simulatePromptCache(cache, recorded.body), output_tokens: Math.ceil(text.length / 4) + 10 * calls.length };
    recorded.usage = usage;
    const stop_reason = calls.length > 0 ? 'tool_use' : 'end_turn';
    const message = { id: `msg_scripted_${++counter}`, type: 'message', role: 'assistant', model: recorded.body?.model, stop_sequence: null };
    if (recorded.body?.stream !== true) return sendJson(res, 200, { ...message, content, stop_reason, usage });

    // Anthropic's event order: message_start (input usage), each block's start / delta / stop,
    // message_delta (stop reason, output tokens), message_stop.
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    const send = (data: Record<string, unknown>) => res.write(`event: ${String(data.type)}\ndata: ${JSON.stringify(data)}\n\n`);
    const { output_tokens, ...input } = usage;
    send({ type: 'message_start', message: { ...message, content: [], stop_reason: null, usage: { ...input, output_tokens: 1 } } });
    content.forEach((block, index) => {
      if (block.type === 'text') {
        send({ type: 'content_block_start', index, content_block: { type: 'text', text: '' } });
        send({ type: 'content_block_delta', index, delta: { type: 'text_delta', text: block.text } });
      } else {
        send({ type: 'content_block_start', index, content_block: { ...block, input: {} } });
        send({ type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: JSON.stringify(block.input) } });
      }
      send({ type: 'content_block_stop', index });
    });
    send({ type: 'message_delta', delta: { stop_reason, stop_sequence: null }, usage: { output_tokens } });
    send({ type: 'message_stop' });
    res.end();
  };

  const handle = (req: IncomingMessage, res: ServerResponse, rawBody: string) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    let body: Record<string, any> | undefined;
    try {
      body = rawBody ? (JSON.parse(rawBody) as Record<string, any>) : undefined;
    } catch {
      body = undefined;
    }
    const recorded: AnthropicRequest = { path, headers: req.headers, body };
    requests.push(recorded);
    if (options.apiKey !== undefined && req.headers['x-api-key'] !== options.apiKey) return sendJson(res, 401, anthropicError(401, 'invalid x-api-key'));
    if (req.method !== 'POST' || path !== '/v1/messages') return sendJson(res, 404, anthropicError(404, `Unknown route: ${req.method} ${path}`));
    if (!body) return sendJson(res, 400, anthropicError(400, 'Request body must be JSON.'));
    const step = queue.shift() ?? { status: 500, body: anthropicError(500, `Scripted Anthropic server: script exhausted (model ${String(body.model)})`) };
    respond(recorded, res, step);
  };

  const server = bodyServer(handle, (res, err) => sendJson(res, 500, anthropicError(500, `Scripted server bug: ${String(err)}`)));
  const { port, close } = await listenOnLoopback(server);
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    requests,
    enqueue: (...steps) => void queue.push(...steps),
    pendingSteps: () => queue.length,
    close,
  };
}
