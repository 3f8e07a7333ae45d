/**
 * twelve-agents/client: a typed client for the HTTP API (`twelve serve`, `twelve dev`).
 * Its types are inferred from the server's own zod schemas (src/server/schemas.ts), so the
 * client and the server cannot drift apart; at run time it needs nothing but `fetch`.
 *
 * @example
 * const twelve = createClient({ url: 'http://127.0.0.1:4120', apiKey: process.env.TWELVE_API_KEY! });
 * const { thread } = await twelve.launch('refunds', 'Refund order A-1001', { idempotencyKey: 'ticket-881' });
 * for await (const item of twelve.stream(thread.id)) {
 *   if (item.kind === 'event') console.log(item.event.seq, item.event.type);
 *   else console.log('finished:', item.status);
 * }
 */
import type { z } from 'zod';
import type * as Schemas from '../server/schemas.js';
import type * as EvalSchemas from '../server/eval-schemas.js';
import type * as CostSchemas from '../server/cost-schemas.js';
import type * as RequestSchemas from '../server/request-schemas.js';
import type { EventType } from '../thread/events.js';
import type { ThreadStatus } from '../thread/state.js';

export type { ThreadStatus, EventType };

type Infer<T extends z.ZodType> = z.infer<T>;

/** A thread as the API returns it (`running`: a worker holds it right now). */
export type Thread = Omit<Infer<typeof Schemas.Thread>, 'status'> & { status: ThreadStatus };
/** What a person is asked for: an approval, a question, a review, an escalation or a budget. */
export type Pending = Infer<typeof Schemas.Pending>;
/** A thread with what it waits for (GET /v1/threads/{id}). */
export type ThreadDetail = Omit<Infer<typeof Schemas.ThreadDetail>, 'status'> & { status: ThreadStatus };
/** One event of a thread's log. */
export type Event = Omit<Infer<typeof Schemas.Event>, 'type'> & { type: EventType };
export type LaunchResult = Omit<Infer<typeof Schemas.LaunchResult>, 'thread'> & { thread: Thread };
export type ForkResult = { thread: Thread };
export type ForkRequest = z.input<typeof Schemas.ForkBody>;
export type ThreadList = Omit<Infer<typeof Schemas.ThreadList>, 'threads'> & { threads: Thread[] };
export type EventList = Omit<Infer<typeof Schemas.EventList>, 'events'> & { events: Event[] };
export type ActionResult = Omit<Infer<typeof Schemas.ActionResult>, 'thread'> & { thread: Thread };
export type MessageResult = Omit<Infer<typeof Schemas.MessageResult>, 'thread'> & { thread: Thread };
export type InboxItem = Omit<Infer<typeof Schemas.InboxItem>, 'thread'> & { thread: Thread };
export type Inbox = { items: InboxItem[] };
/** An agent's manifest: models, tools with JSON Schemas and approval policies, limits. */
export type Agent = Infer<typeof Schemas.AgentManifest>;
export type AgentList = Infer<typeof Schemas.AgentList>;
/** A release with the threads whose latest step it wrote, per status (GET /v1/releases). */
export type ReleaseSummary = Infer<typeof Schemas.ReleaseSummary>;
export type ReleaseList = Infer<typeof Schemas.ReleaseList>;
/** One release: prompt, tools with schemas, models, settings, limits, policies, effects, and its manifest. */
export type Release = Infer<typeof Schemas.Release>;
/** What changed between two releases of one agent: the prompt as a unified diff, and each change by kind. */
export type ReleaseDiff = Infer<typeof Schemas.ReleaseDiff>;
/** A stored eval run without its per-case results (GET /v1/evals/runs). */
export type EvalRunSummary = Infer<typeof EvalSchemas.EvalRunSummary>;
/** One stored eval run with its per-case results. */
export type EvalRun = Infer<typeof EvalSchemas.EvalRun>;
/** A case proposed by a person's correction (a rejection with a comment, guidance, a review edit). */
export type Proposal = Infer<typeof EvalSchemas.Proposal>;
export type AcceptResult = Infer<typeof EvalSchemas.AcceptResult>;
/** What the model saw at one model step: `source` stored (exactly what was sent), re-derived (old events) or unavailable. */
export type StepRequest = Infer<typeof RequestSchemas.StepRequest>;
export type StepRequestList = Infer<typeof RequestSchemas.StepRequestList>;
/** A content-addressed blob: hash "sha256:...", size, and its JSON value. */
export type Blob = Infer<typeof RequestSchemas.Blob>;
/** The owner of the API key in use (GET /v1/me). */
/** Spend, tokens and calls grouped (GET /v1/costs); unpricedCalls are never counted as $0. */
export type CostReport = Infer<typeof CostSchemas.CostReportSchema>;

export type Me = { name: string; roles: string[] };

export type DecisionRequest = z.input<typeof Schemas.DecisionBody>;
export type AnswerRequest = z.input<typeof Schemas.AnswerBody>;
export type ReviewRequest = z.input<typeof Schemas.ReviewBody>;
export type BudgetRequest = z.input<typeof Schemas.BudgetBody>;
export type ControlRequest = z.input<typeof Schemas.ControlBody>;
export type ResumeRequest = z.input<typeof Schemas.ResumeBody>;

export interface ClientOptions {
  /** The server's base URL, e.g. `http://127.0.0.1:4120` (a path prefix behind a proxy is kept). */
  url: string;
  /** An API key from the server's TWELVE_API_KEYS; its name is what decisions are recorded under. */
  apiKey: string;
  /** Default: the global fetch. */
  fetch?: typeof fetch;
}

export interface LaunchOptions {
  /** A retried launch with the same key returns the same thread (created: false). */
  idempotencyKey?: string;
  metadata?: Record<string, unknown>;
  /** W3C trace context of the caller (`traceparent`, optionally `tracestate`): the thread's spans join that trace. */
  traceparent?: string;
  tracestate?: string;
  signal?: AbortSignal;
}

export interface ListThreadsQuery {
  agent?: string;
  status?: ThreadStatus | ThreadStatus[];
  /** Created at or after (inclusive). */
  createdAfter?: string | Date;
  /** Created strictly before. */
  createdBefore?: string | Date;
  /** 1 to 200 (default 50). */
  limit?: number;
  /** `nextCursor` of the previous page. */
  cursor?: string;
}

/** What `stream()` yields: each event once, in order, then `end` when the thread has finished. */
export type StreamItem = { kind: 'event'; event: Event } | { kind: 'end'; threadId: string; status: ThreadStatus; lastSeq: number };

export interface StreamOptions {
  /** Start after this sequence number (default 0: the whole log). */
  after?: number;
  /** Stops the stream (the iterator finishes quietly). */
  signal?: AbortSignal;
  /** Consecutive failed connections before giving up with an ApiError (default 8). */
  maxRetries?: number;
  /** Reconnect when nothing (not even a keep-alive) arrived for this long (default 45 s; the server sends one every 15 s). */
  idleTimeoutMs?: number;
  /** Called before each reconnection (after a dropped connection, a 5xx, a silent stream). */
  onReconnect?: (info: { attempt: number; lastEventId: number; error: unknown }) => void;
}

/** Every non-2xx answer (and an unreachable server, status 0), with the API's error code and details. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  readonly status: number;
  readonly code: string;
  readonly details: Record<string, unknown>;

  constructor(status: number, code: string, message: string, details: Record<string, unknown> = {}, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.status = status;
    this.code = code;
    this.details = details;
  }

  static is(value: unknown): value is ApiError {
    return value instanceof Error && value.name === 'ApiError' && typeof (value as ApiError).status === 'number' && typeof (value as ApiError).code === 'string';
  }
}

export interface TwelveClient {
  readonly url: string;
  launch(agent: string, input: unknown, options?: LaunchOptions): Promise<LaunchResult>;
  getThread(id: string): Promise<ThreadDetail>;
  listThreads(query?: ListThreadsQuery): Promise<ThreadList>;
  /** Events after `after` (default 0), at most `limit` (default 500, at most 1000). */
  events(id: string, after?: number, options?: { limit?: number }): Promise<EventList>;
  /** What the model saw at each model step: the request (stored, or re-derived for old events) and the response. */
  stepRequests(id: string): Promise<StepRequestList>;
  /** The request of one model step (`seq` of its model_called event). */
  stepRequest(id: string, seq: number): Promise<StepRequest>;
  /** A blob the thread refers to (a truncated tool result's full value, a stored request or one of its parts). */
  blob(id: string, hash: string): Promise<Blob>;
  /** Server-Sent Events as an async iterator; reconnects with Last-Event-ID, so nothing is missed or repeated. */
  stream(id: string, options?: StreamOptions): AsyncGenerator<StreamItem, void, undefined>;
  /**
   * Continues a completed thread with the user's next message (a conversation); wait for the answer
   * with stream(id, { after: result.seq }). `messageId`: a retry with the same id is recorded once.
   * @example
   * const { seq } = await client.say(threadId, 'And in euros?', { messageId: crypto.randomUUID() });
   */
  say(id: string, text: string, options?: { messageId?: string }): Promise<MessageResult>;
  decide(id: string, decision: DecisionRequest): Promise<ActionResult>;
  answer(id: string, answer: AnswerRequest): Promise<ActionResult>;
  /** Review the final answer that waits for review: approve, edit (`output`), send back (`feedback`), or reject. */
  review(id: string, review: ReviewRequest): Promise<ActionResult>;
  pause(id: string, request?: ControlRequest): Promise<ActionResult>;
  resume(id: string, request?: ResumeRequest): Promise<ActionResult>;
  /** A new thread with this one's events 1..atSeq, going on on the server's current release (`shadow`: a replay). */
  fork(id: string, request: ForkRequest): Promise<ForkResult>;
  cancel(id: string, request?: ControlRequest): Promise<ActionResult>;
  raiseBudget(id: string, request: BudgetRequest): Promise<ActionResult>;
  inbox(query?: { agent?: string }): Promise<Inbox>;
  agents(): Promise<AgentList>;
  /** Releases newest first; `current` marks the ones the server runs. */
  listReleases(query?: { agent?: string; limit?: number }): Promise<ReleaseList>;
  /** A release id, or `current` (the server's release; name the agent when it runs several). */
  getRelease(id: string, options?: { agent?: string }): Promise<Release>;
  /** From `a` to `b`, both of one agent; either may be `current`. */
  diffReleases(a: string, b: string, options?: { agent?: string }): Promise<ReleaseDiff>;
  /** Stored eval runs, newest first. */
  listEvalRuns(query?: { agent?: string; suite?: string; limit?: number }): Promise<{ runs: EvalRunSummary[] }>;
  getEvalRun(id: string): Promise<EvalRun>;
  /** Proposed cases, newest first (`status: 'pending'` for the ones to look at). */
  listProposals(query?: { status?: Proposal['status']; agent?: string; thread?: string; limit?: number }): Promise<{ proposals: Proposal[] }>;
  /** Writes the case into the server project's suite file (`suite`: relative to the project), then marks it accepted. */
  acceptProposal(id: string, options?: { suite?: string }): Promise<AcceptResult>;
  dismissProposal(id: string): Promise<Proposal>;
  /** Spend from the events, grouped by one or two of agent, model, day, tenant; since/until: an age (7d) or ISO time. */
  costs(query?: { by?: string; since?: string; until?: string; agent?: string; tenant?: string }): Promise<CostReport>;
  me(): Promise<Me>;
}

export function createClient(options: ClientOptions): TwelveClient {
  if (!options?.url) throw new TypeError('createClient: url is required (e.g. http://127.0.0.1:4120)');
  if (!options.apiKey) throw new TypeError('createClient: apiKey is required');
  let base: URL;
  try {
    base = new URL(options.url);
  } catch {
    throw new TypeError(`createClient: url "${options.url}" is not a URL`);
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:') throw new TypeError(`createClient: url "${options.url}" must be http(s)`);
  const root = base.href.replace(/\/+$/, '');
  const fetchImpl: typeof fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const auth = `Bearer ${options.apiKey}`;
  const thread = (id: string) => `/v1/threads/${encodeURIComponent(id)}`;

  async function request<T>(method: string, path: string, init: { body?: unknown; query?: Record<string, string | undefined>; headers?: Record<string, string>; signal?: AbortSignal } = {}): Promise<T> {
    const url = new URL(`${root}${path}`);
    for (const [name, value] of Object.entries(init.query ?? {})) if (value !== undefined) url.searchParams.set(name, value);
    const headers: Record<string, string> = { authorization: auth, accept: 'application/json', ...init.headers };
    if (init.body !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    try {
      response = await fetchImpl(url, { method, headers, ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}), ...(init.signal ? { signal: init.signal } : {}) });
    } catch (error) {
      if (init.signal?.aborted) throw error;
      throw unreachable(error);
    }
    const text = await response.text();
    if (!response.ok) throw errorFrom(response.status, text);
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new ApiError(response.status, 'invalid_response', `${method} ${path}: the server answered ${response.status} with a body that is not JSON`);
    }
  }

  function unreachable(error: unknown): ApiError {
    const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : '';
    return new ApiError(0, 'unreachable', `cannot reach ${root} (${error instanceof Error ? error.message : String(error)}${cause})`, {}, { cause: error });
  }

  async function* stream(id: string, streamOptions: StreamOptions = {}): AsyncGenerator<StreamItem, void, undefined> {
    const { signal } = streamOptions;
    const maxRetries = streamOptions.maxRetries ?? 8;
    const idleTimeoutMs = streamOptions.idleTimeoutMs ?? 45_000;
    let last = streamOptions.after ?? 0;
    let failures = 0;
    for (;;) {
      if (signal?.aborted) return;
      const attempt = new AbortController();
      const stop = () => attempt.abort(signal?.reason);
      signal?.addEventListener('abort', stop, { once: true });
      let idle: ReturnType<typeof setTimeout> | undefined;
      const touch = () => {
        clearTimeout(idle);
        idle = setTimeout(() => attempt.abort(new Error(`no data for ${idleTimeoutMs} ms`)), idleTimeoutMs);
        (idle as { unref?: () => void }).unref?.();
      };
      let error: unknown;
      let fatal: ApiError | undefined;
      try {
        touch();
        let response: Response;
        try {
          response = await fetchImpl(`${root}${thread(id)}/stream`, {
            headers: { authorization: auth, accept: 'text/event-stream', 'last-event-id': String(last) },
            signal: attempt.signal,
          });
        } catch (fetchError) {
          throw unreachable(fetchError);
        }
        if (!response.ok) {
          const apiError = errorFrom(response.status, await response.text());
          // Client errors (unknown thread, bad key) will not get better by retrying.
          if (response.status < 500 && response.status !== 429) fatal = apiError;
          throw apiError;
        }
        if (!response.body) throw new ApiError(response.status, 'invalid_response', 'the event stream has no body');
        for await (const message of sseMessages(response.body, touch)) {
          failures = 0;
          if (message.event === 'end') {
            const end = JSON.parse(message.data) as { threadId: string; status: ThreadStatus; lastSeq: number };
            yield { kind: 'end', threadId: end.threadId, status: end.status, lastSeq: end.lastSeq };
            return;
          }
          if (message.id === undefined || !message.data) continue;
          const event = JSON.parse(message.data) as Event;
          if (event.seq <= last) continue; // never twice, whatever a proxy replays
          last = event.seq;
          yield { kind: 'event', event };
        }
        error = new Error('the server closed the stream');
      } catch (caught) {
        if (signal?.aborted) return;
        if (caught === fatal) throw caught;
        error = caught;
      } finally {
        clearTimeout(idle);
        signal?.removeEventListener('abort', stop);
        attempt.abort(); // closes the connection when the caller stops iterating early
      }
      failures++;
      if (failures > maxRetries) {
        throw ApiError.is(error) ? error : new ApiError(0, 'stream_failed', `the event stream of ${id} failed ${failures} times in a row: ${(error as Error)?.message ?? error}`, { lastEventId: last }, { cause: error });
      }
      streamOptions.onReconnect?.({ attempt: failures, lastEventId: last, error });
      await sleep(Math.min(5_000, 100 * 2 ** (failures - 1)), signal);
    }
  }

  return {
    url: root,
    launch: (agent, input, launchOptions = {}) => {
      const headers = launchHeaders(launchOptions);
      return request('POST', '/v1/threads', {
        body: { agent, input, ...(launchOptions.metadata ? { metadata: launchOptions.metadata } : {}) },
        ...(headers ? { headers } : {}),
        ...(launchOptions.signal ? { signal: launchOptions.signal } : {}),
      });
    },
    getThread: (id) => request('GET', thread(id)),
    listThreads: (query = {}) =>
      request('GET', '/v1/threads', {
        query: {
          agent: query.agent,
          status: query.status === undefined ? undefined : [query.status].flat().join(','),
          created_after: isoTime(query.createdAfter),
          created_before: isoTime(query.createdBefore),
          limit: query.limit === undefined ? undefined : String(query.limit),
          cursor: query.cursor,
        },
      }),
    events: (id, after = 0, eventOptions = {}) => request('GET', `${thread(id)}/events`, { query: { after: String(after), limit: eventOptions.limit === undefined ? undefined : String(eventOptions.limit) } }),
    stepRequests: (id) => request('GET', `${thread(id)}/requests`),
    stepRequest: (id, seq) => request('GET', `${thread(id)}/steps/${seq}/request`),
    blob: (id, hash) => request('GET', `${thread(id)}/blobs/${encodeURIComponent(hash)}`),
    stream,
    say: (id, text, sayOptions = {}) => request('POST', `${thread(id)}/messages`, { body: { text, ...(sayOptions.messageId !== undefined ? { messageId: sayOptions.messageId } : {}) } }),
    decide: (id, decision) => request('POST', `${thread(id)}/approvals`, { body: decision }),
    answer: (id, answer) => request('POST', `${thread(id)}/answer`, { body: answer }),
    review: (id, review) => request('POST', `${thread(id)}/review`, { body: review }),
    pause: (id, body = {}) => request('POST', `${thread(id)}/pause`, { body }),
    resume: (id, body = {}) => request('POST', `${thread(id)}/resume`, { body }),
    fork: (id, body) => request('POST', `${thread(id)}/fork`, { body }),
    cancel: (id, body = {}) => request('POST', `${thread(id)}/cancel`, { body }),
    raiseBudget: (id, body) => request('POST', `${thread(id)}/budget`, { body }),
    inbox: (query = {}) => request('GET', '/v1/inbox', { query: { agent: query.agent } }),
    agents: () => request('GET', '/v1/agents'),
    listReleases: (query = {}) => request('GET', '/v1/releases', { query: { agent: query.agent, limit: query.limit === undefined ? undefined : String(query.limit) } }),
    getRelease: (id, releaseOptions = {}) => request('GET', `/v1/releases/${encodeURIComponent(id)}`, { query: { agent: releaseOptions.agent } }),
    diffReleases: (a, b, releaseOptions = {}) => request('GET', `/v1/releases/${encodeURIComponent(a)}/diff/${encodeURIComponent(b)}`, { query: { agent: releaseOptions.agent } }),
    listEvalRuns: (query = {}) => request('GET', '/v1/evals/runs', { query: { agent: query.agent, suite: query.suite, limit: query.limit === undefined ? undefined : String(query.limit) } }),
    getEvalRun: (id) => request('GET', `/v1/evals/runs/${encodeURIComponent(id)}`),
    listProposals: (query = {}) =>
      request('GET', '/v1/evals/proposals', { query: { status: query.status, agent: query.agent, thread: query.thread, limit: query.limit === undefined ? undefined : String(query.limit) } }),
    acceptProposal: (id, acceptOptions = {}) => request('POST', `/v1/evals/proposals/${encodeURIComponent(id)}/accept`, { body: acceptOptions.suite ? { suite: acceptOptions.suite } : {} }),
    dismissProposal: (id) => request('POST', `/v1/evals/proposals/${encodeURIComponent(id)}/dismiss`, { body: {} }),
    me: () => request('GET', '/v1/me'),
    costs: (query = {}) => request('GET', '/v1/costs', { query: { by: query.by, since: query.since, until: query.until, agent: query.agent, tenant: query.tenant } }),
  };
}

function errorFrom(status: number, text: string): ApiError {
  let body: { error?: { code?: unknown; message?: unknown; details?: unknown } } | undefined;
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    body = undefined;
  }
  const error = body?.error;
  const code = typeof error?.code === 'string' ? error.code : 'http_error';
  const message = typeof error?.message === 'string' ? error.message : `HTTP ${status}${text ? `: ${text.slice(0, 200)}` : ''}`;
  const details = error?.details && typeof error.details === 'object' ? (error.details as Record<string, unknown>) : {};
  return new ApiError(status, code, message, details);
}

function isoTime(value: string | Date | undefined): string | undefined {
  if (value === undefined) return undefined;
  return value instanceof Date ? value.toISOString() : value;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

interface SseMessage {
  id?: string;
  event?: string;
  data: string;
}

/** The text/event-stream format: `field: value` lines, `:` comments, a blank line ends a message. */
async function* sseMessages(body: ReadableStream<Uint8Array>, onData: () => void): AsyncGenerator<SseMessage> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  let message: SseMessage = { data: '' };
  let dataLines: string[] = [];
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      onData();
      buffer += decoder.decode(value, { stream: true });
      let index: number;
      while ((index = buffer.search(/\r\n|\r|\n/)) >= 0) {
        // A lone \r at the very end may be the first half of \r\n: wait for more.
        if (buffer[index] === '\r' && index === buffer.length - 1) break;
        const line = buffer.slice(0, index);
        buffer = buffer.slice(index + (buffer.startsWith('\r\n', index) ? 2 : 1));
        if (line === '') {
          if (dataLines.length || message.event) yield { ...message, data: dataLines.join('\n') };
          message = { data: '' };
          dataLines = [];
          continue;
        }
        if (line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const fieldValue = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'data') dataLines.push(fieldValue);
        else if (field === 'event') message.event = fieldValue;
        else if (field === 'id' && !fieldValue.includes('\u0000')) message.id = fieldValue;
      }
    }
  } finally {
    reader.releaseLock();
  }
}

/** The launch's headers: its idempotency key and the caller's trace context, when given. */
function launchHeaders(options: LaunchOptions): Record<string, string> | undefined {
  const headers: Record<string, string> = {};
  if (options.idempotencyKey) headers['idempotency-key'] = options.idempotencyKey;
  if (options.traceparent) headers.traceparent = options.traceparent;
  if (options.tracestate) headers.tracestate = options.tracestate;
  return Object.keys(headers).length > 0 ? headers : undefined;
}
