/**
 * A tiny OpenAI-compatible HTTP server for tests. Tests enqueue scripted steps;
 * each POST /v1/chat/completions consumes one step (FIFO), so model providers
 * are exercised through their real HTTP + parsing path rather than mocked.
 */
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { bodyServer, listenOnLoopback } from './loopback.js';

export interface ScriptedUsage {
  prompt_tokens: number;
  completion_tokens: number;
  /** The part of prompt_tokens read from the provider's prompt cache (sent as given, JSON and stream alike). */
  prompt_tokens_details?: { cached_tokens: number };
}

interface StepCommon {
  /** Wait this long before responding (e.g. to trigger client timeouts). */
  delayMs?: number;
  /**
   * A streamed request (`stream: true`) gets the text in these pieces, one SSE chunk each
   * (their concatenation is the text unless `text` says otherwise); without, in one chunk.
   */
  chunks?: string[];
  /** Awaited before each piece of `chunks` is sent: a test releases the stream chunk by chunk. */
  beforeChunk?: (index: number) => Promise<void>;
}

export interface TextStep extends StepCommon {
  /** Optional only when `chunks` gives the text. */
  text?: string;
  usage?: ScriptedUsage;
}

export interface ScriptedToolCall {
  /** Defaults to `call_<n>` from a server-wide counter. */
  id?: string;
  name: string;
  /** A string is sent verbatim (so malformed JSON can be scripted); an object is JSON.stringified. */
  arguments: string | object;
}

export interface ToolCallsStep extends StepCommon {
  toolCalls: ScriptedToolCall[];
  text?: string;
  usage?: ScriptedUsage;
}

export interface ErrorStep extends StepCommon {
  status: number;
  /** Defaults to the OpenAI error shape. A string body is sent verbatim. */
  body?: unknown;
  headers?: Record<string, string>;
}

/** Never respond; the request stays open until the client aborts or the server closes. */
export interface HangStep {
  hang: true;
}

/** Steps are distinguished structurally: `toolCalls`, `status`, `hang`, else `text`. */
export type ScriptStep = TextStep | ToolCallsStep | ErrorStep | HangStep;

export interface RecordedRequest {
  method: string;
  /** Path without the query string, e.g. `/v1/chat/completions`. */
  path: string;
  headers: IncomingHttpHeaders;
  rawBody: string;
  /** Parsed JSON body; undefined when the body is empty or not valid JSON. `any` values keep test assertions terse. */
  body: Record<string, any> | undefined;
  model: string | undefined;
}

export interface ScriptedServer {
  /** e.g. `http://127.0.0.1:54321/v1` — pass straight to a provider's `baseURL`. */
  readonly baseURL: string;
  /** Every request received (any path), in arrival order. */
  readonly requests: RecordedRequest[];
  enqueue(...steps: ScriptStep[]): void;
  /** Used when the queue is empty. Default: 500 "script exhausted". Pass undefined to restore it. */
  setFallback(fn: ((request: RecordedRequest) => ScriptStep) | undefined): void;
  /** Steps enqueued but not yet consumed. */
  pendingSteps(): number;
  /** Stops the server, destroying open sockets (including hanging and delayed requests). Idempotent. */
  close(): Promise<void>;
}

const estimateTokens = (s: string): number => Math.ceil(s.length / 4);

function openAIError(message: string, type: string, code: string | null) {
  return { error: { message, type, param: null, code } };
}

const exhausted: (req: RecordedRequest) => ScriptStep = (req) => ({
  status: 500,
  body: openAIError(
    `Scripted OpenAI server: script exhausted (no step queued for ${req.method} ${req.path}, model ${req.model ?? '?'})`,
    'server_error',
    'script_exhausted',
  ),
});

export async function startScriptedOpenAIServer(options: { apiKey?: string } = {}): Promise<ScriptedServer> {
  const queue: ScriptStep[] = [];
  const requests: RecordedRequest[] = [];
  const modelsSeen = new Set<string>();
  const timers = new Set<NodeJS.Timeout>();
  let fallback = exhausted;
  let toolCallCounter = 0;
  let completionCounter = 0;

  const sendJson = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    const payload = typeof body === 'string' ? body : JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(payload);
  };

  const respond = (req: RecordedRequest, res: ServerResponse, step: ScriptStep) => {
    if ('hang' in step) return; // close() destroys the socket.
    if ('status' in step) {
      const type = step.status === 429 ? 'rate_limit_exceeded' : step.status >= 500 ? 'server_error' : 'invalid_request_error';
      const body = step.body ?? openAIError(`Scripted error (HTTP ${step.status})`, type, type);
      return sendJson(res, step.status, body, step.headers);
    }

    const text = step.text ?? step.chunks?.join('') ?? '';
    const toolCalls = ('toolCalls' in step ? step.toolCalls : []).map((call) => ({
      id: call.id ?? `call_${++toolCallCounter}`,
      type: 'function' as const,
      function: {
        name: call.name,
        arguments: typeof call.arguments === 'string' ? call.arguments : JSON.stringify(call.arguments),
      },
    }));
    const usage = step.usage ?? {
      prompt_tokens: estimateTokens(req.rawBody),
      completion_tokens: estimateTokens(text) + 10 * toolCalls.length,
    };
    const fullUsage = { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens };
    const finish_reason = toolCalls.length > 0 ? 'tool_calls' : 'stop';
    const base = {
      id: `chatcmpl-scripted-${++completionCounter}`,
      created: Math.floor(Date.now() / 1000),
      model: req.model ?? 'scripted-model',
    };

    if (req.body?.stream !== true) {
      const message = { role: 'assistant', content: text || null, ...(toolCalls.length ? { tool_calls: toolCalls } : {}) };
      return sendJson(res, 200, {
        ...base,
        object: 'chat.completion',
        choices: [{ index: 0, message, logprobs: null, finish_reason }],
        usage: fullUsage,
      });
    }

    // The content as one chunk, or as the step's pieces (each awaiting beforeChunk, so a test
    // can hold the stream mid-way); then one chunk per tool call (complete arguments), a
    // finish chunk, then usage.
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    const chunk = (choices: unknown[], extra: object = {}) =>
      res.write(`data: ${JSON.stringify({ ...base, object: 'chat.completion.chunk', choices, ...extra })}\n\n`);
    const delta = (d: object, finish: string | null = null) => chunk([{ index: 0, delta: d, logprobs: null, finish_reason: finish }]);
    const rest = () => {
      toolCalls.forEach((call, index) => delta({ tool_calls: [{ index, ...call }] }));
      delta({}, finish_reason);
      if (req.body?.stream_options?.include_usage === true) chunk([], { usage: fullUsage });
      res.end('data: [DONE]\n\n');
    };
    const pieces = step.chunks;
    if (!pieces) {
      delta({ role: 'assistant', content: text });
      return rest();
    }
    delta({ role: 'assistant', content: '' });
    void (async () => {
      for (const [index, piece] of pieces.entries()) {
        await step.beforeChunk?.(index);
        if (res.destroyed) return;
        delta({ content: piece });
      }
      rest();
    })().catch(() => res.destroy());
  };

  const handle = (req: IncomingMessage, res: ServerResponse, rawBody: string) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    let body: Record<string, any> | undefined;
    try {
      const parsed: unknown = rawBody ? JSON.parse(rawBody) : undefined;
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) body = parsed as Record<string, any>;
    } catch {
      body = undefined;
    }
    const model = typeof body?.model === 'string' ? body.model : undefined;
    const recorded: RecordedRequest = { method: req.method ?? 'GET', path, headers: req.headers, rawBody, body, model };
    requests.push(recorded);

    if (options.apiKey !== undefined && req.headers.authorization !== `Bearer ${options.apiKey}`) {
      return sendJson(res, 401, openAIError('Incorrect API key provided.', 'invalid_request_error', 'invalid_api_key'));
    }
    if (req.method === 'GET' && path === '/v1/models') {
      const data = [...modelsSeen].map((id) => ({ id, object: 'model', created: 0, owned_by: 'scripted' }));
      return sendJson(res, 200, { object: 'list', data });
    }
    if (req.method !== 'POST' || path !== '/v1/chat/completions') {
      return sendJson(res, 404, openAIError(`Unknown route: ${req.method} ${path}`, 'invalid_request_error', 'not_found'));
    }
    if (!body) {
      return sendJson(res, 400, openAIError('Request body must be a JSON object.', 'invalid_request_error', 'invalid_json'));
    }
    if (model) modelsSeen.add(model);

    // The step is dequeued on arrival (not after the delay) so FIFO order matches request order.
    const step = queue.shift() ?? fallback(recorded);
    const delayMs = 'delayMs' in step ? (step.delayMs ?? 0) : 0;
    if (delayMs <= 0) return respond(recorded, res, step);
    const timer = setTimeout(() => {
      timers.delete(timer);
      respond(recorded, res, step);
    }, delayMs);
    timers.add(timer);
    // If the client gives up mid-delay, never write to the dead socket.
    res.on('close', () => {
      clearTimeout(timer);
      timers.delete(timer);
    });
  };

  const server = bodyServer(handle, (res, err) => sendJson(res, 500, openAIError(`Scripted server bug: ${String(err)}`, 'server_error', null)));

  const { port, close } = await listenOnLoopback(server, () => {
    for (const timer of timers) clearTimeout(timer);
    timers.clear();
  });
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    requests,
    enqueue: (...steps) => void queue.push(...steps),
    setFallback: (fn) => void (fallback = fn ?? exhausted),
    pendingSteps: () => queue.length,
    close,
  };
}
