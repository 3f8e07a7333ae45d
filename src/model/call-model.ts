/**
 * One model step: the primary model with retries (backoff on 429 / 5xx / timeouts,
 * honouring Retry-After), then each fallback in turn. Calls the provider adapter's
 * doGenerate directly: Twelve runs tools itself, so the AI SDK's higher-level loop
 * would only add overhead. Record/replay sits here, below retries and fallbacks.
 *
 * Streaming: given `onText`, each attempt uses the provider's doStream instead and hands the
 * text on as it arrives (model/stream-result.ts folds the stream into the same result, so the
 * recorded request, the replay key, the recording and the model_called event are as without
 * it). A replayed step sends its recorded text as one delta.
 *
 * Two kinds of failure: transient ones (5xx, 429, timeouts, network) are retried and end in
 * ModelCallError (the thread records model_failed and tries again next step); configuration
 * ones (no key or base URL, no recording to replay, credentials refused, no such model) are
 * never retried on that model, and when every model of the chain has one the step ends in
 * ModelBlockedError: retrying cannot help, a person must fix the configuration.
 */
import { APICallError, type LanguageModelV3CallOptions, type LanguageModelV3GenerateResult } from '@ai-sdk/provider';
import type { AgentRelease } from '../agent/release.js';
import type { ModelMode } from '../config/env.js';
import { TwelveError, errorMessage } from '../errors.js';
import type { ModelAttemptFailure, TokenUsage } from '../thread/events.js';
import type { ContextMessage } from '../thread/render-context.js';
import type { PriceTable } from './prices.js';
import { providerVariables, type ModelResolver } from './providers.js';
import { type RecordingStore, replayMissing, requestKey } from './recording.js';
import { promptCacheKey, withPromptCache } from './prompt-cache.js';
import { collectStream } from './stream-result.js';

export interface ModelCallSuccess {
  model: string;
  attempt: number;
  fallbackIndex: number;
  latencyMs: number;
  result: LanguageModelV3GenerateResult;
  /** As model_called records it: cached-read and cache-write counts only when the provider reported some. */
  usage: TokenUsage;
  costUsd: number | null;
  failures: ModelAttemptFailure[];
  /** The whole step: failed attempts and retry waits included. */
  totalLatencyMs: number;
  /** Models of the chain skipped for a configuration problem before this one answered. */
  blocked: TwelveError[];
}

export class ModelCallError extends TwelveError {
  constructor(
    readonly failures: ModelAttemptFailure[],
    /** The whole step: every attempt and retry wait. */
    readonly totalLatencyMs: number,
  ) {
    const last = failures[failures.length - 1];
    super('model_call_failed', `every model failed (${failures.length} attempts); last: ${last ? `${last.model}: ${last.error}` : 'none'}`, {
      details: { failures },
    });
  }
}

/** Every model of the chain has a configuration problem: no retry can help. `code` is the first problem's. */
export class ModelBlockedError extends TwelveError {
  constructor(
    readonly failures: ModelAttemptFailure[],
    readonly problems: TwelveError[],
  ) {
    super(problems[0]!.code, blockedMessage(problems), { details: { failures, problems: problems.map((p) => ({ code: p.code, message: p.message, ...p.details })) } });
    this.name = 'ModelBlockedError';
  }
}

export interface ModelCaller {
  resolver: ModelResolver;
  prices: PriceTable;
  mode: ModelMode;
  recordings: (release: AgentRelease) => RecordingStore;
  /** First retry delay; doubles each retry (with jitter). */
  retryBaseMs: number;
  /** Whether `openai:` requests carry a per-thread prompt_cache_key (TWELVE_OPENAI_PROMPT_CACHE_KEY). */
  promptCacheKey: boolean;
}

export function buildRequest(release: AgentRelease, messages: ContextMessage[]): LanguageModelV3CallOptions {
  const request: LanguageModelV3CallOptions = { prompt: messages };
  if (release.toolSpecs.length > 0) {
    request.tools = release.toolSpecs;
    request.toolChoice = { type: 'auto' };
  }
  if (release.outputJsonSchema) {
    request.responseFormat = { type: 'json', schema: release.outputJsonSchema as never, name: 'final_answer' };
  }
  if (release.settings.temperature !== undefined) request.temperature = release.settings.temperature;
  if (release.settings.maxOutputTokens !== undefined) request.maxOutputTokens = release.settings.maxOutputTokens;
  return request;
}

/** Receives a streamed step's text as it arrives; `attempt` (`<fallback index>.<attempt>`) changes when a retry starts over. */
export type TextListener = (attempt: string, text: string) => void;

export interface CallModelOptions {
  signal?: AbortSignal | undefined;
  /** Given: each attempt streams (doStream), its text handed on as it arrives. */
  onText?: TextListener | undefined;
  /** The thread the step belongs to: its OpenAI prompt cache key (model/prompt-cache.ts). */
  threadId?: string | undefined;
}

/**
 * `request` is what the thread records and what record/replay keys on; each model of the chain
 * is sent it with that provider's prompt-cache options added (model/prompt-cache.ts).
 */
export async function callModel(
  caller: ModelCaller,
  release: AgentRelease,
  request: LanguageModelV3CallOptions,
  { signal, onText, threadId }: CallModelOptions = {},
): Promise<ModelCallSuccess> {
  const cacheKey = threadId === undefined || !caller.promptCacheKey ? undefined : promptCacheKey(threadId);
  const failures: ModelAttemptFailure[] = [];
  const blocked: TwelveError[] = [];
  const { timeoutMs, maxRetries } = release.settings;
  const stepStarted = performance.now();
  for (const [fallbackIndex, model] of release.models.entries()) {
    for (let attempt = 1; attempt <= maxRetries + 1; attempt++) {
      signal?.throwIfAborted();
      const started = performance.now();
      try {
        const listener = onText && ((text: string) => onText(`${fallbackIndex}.${attempt}`, text));
        const result = await generateOnce(caller, release, model, request, { timeoutMs, signal, onText: listener, cacheKey });
        const usage = usageOf(result.usage);
        return {
          model,
          attempt,
          fallbackIndex,
          latencyMs: millisecondsSince(started),
          result,
          usage,
          costUsd: caller.prices.cost(model, usage),
          failures,
          totalLatencyMs: millisecondsSince(stepStarted),
          blocked,
        };
      } catch (error) {
        if (signal?.aborted) throw error;
        const problem = configurationProblem(model, error);
        if (problem) {
          // Not retried: the same configuration fails the same way. The next fallback may do.
          failures.push({ model, attempt, error: problem.message.slice(0, 300), ...(APICallError.isInstance(error) && error.statusCode ? { status: error.statusCode } : {}) });
          blocked.push(problem);
          break;
        }
        const failure = describeFailure(model, attempt, error, timeoutMs);
        failures.push({ ...failure.record, latencyMs: millisecondsSince(started) });
        if (!failure.retryable || attempt > maxRetries) break;
        await sleep(failure.retryAfterMs ?? backoff(caller.retryBaseMs, attempt), signal);
      }
    }
  }
  if (blocked.length === release.models.length) throw new ModelBlockedError(failures, blocked);
  throw new ModelCallError(failures, millisecondsSince(stepStarted));
}

/**
 * The AI SDK's usage as model_called records it. `inputTokens.total` counts every input token
 * (each provider adapter adds Anthropic's cache reads and writes to it); the cache counts are kept
 * only when nonzero, so events of calls that touched no cache look as they did before.
 */
export function usageOf(usage: LanguageModelV3GenerateResult['usage']): TokenUsage {
  const cacheRead = tokenCount(usage.inputTokens.cacheRead);
  const cacheWrite = tokenCount(usage.inputTokens.cacheWrite);
  // A provider that reports only the parts (noCache + cacheRead + cacheWrite) gets its total summed;
  // one whose cache counts exceed its total (an inconsistent server) has the total raised to them:
  // the event stays "of inputTokens", and the spend is not under-counted.
  const reported = usage.inputTokens.total === undefined ? tokenCount(usage.inputTokens.noCache) + cacheRead + cacheWrite : tokenCount(usage.inputTokens.total);
  return {
    inputTokens: Math.max(reported, cacheRead + cacheWrite),
    outputTokens: tokenCount(usage.outputTokens.total),
    ...(cacheRead > 0 ? { cachedInputTokens: cacheRead } : {}),
    ...(cacheWrite > 0 ? { cacheWriteTokens: cacheWrite } : {}),
  };
}

/** A provider's token count as the event records it: a whole number, never negative (absent, NaN: 0). */
function tokenCount(value: number | undefined): number {
  return value !== undefined && Number.isFinite(value) && value > 0 ? Math.round(value) : 0;
}

function millisecondsSince(started: number): number {
  return Math.round((performance.now() - started) * 1000) / 1000;
}

function blockedMessage(problems: TwelveError[]): string {
  if (problems.length === 1) return problems[0]!.message;
  const directories = new Set(problems.map((p) => p.details.directory));
  if (problems.every((p) => p.code === 'replay_missing') && directories.size === 1) {
    // One sentence for the whole chain: the same advice, once.
    const { directory, agent } = problems[0]!.details as { directory: string; agent: string };
    const keys = problems.map((p) => `${String(p.details.model)} key ${String(p.details.key)}`).join(', ');
    return (
      `no recorded response for this request from any model of the chain (${keys}) in ${directory}. ` +
      `Record it by running the same thread with TWELVE_MODEL_MODE=record and a live provider key (agent ${agent}); a changed prompt, tool schema or input changes the key`
    );
  }
  return `no model of the chain can be called: ${problems.map((p) => p.message).join('; ')}`;
}

/** The failure as a configuration problem (it will not fix itself), or undefined for a transient one. */
export function configurationProblem(model: string, error: unknown): TwelveError | undefined {
  if (TwelveError.is(error, 'config_invalid') || TwelveError.is(error, 'replay_missing') || TwelveError.is(error, 'model_id_invalid')) return error;
  if (!APICallError.isInstance(error)) return undefined;
  const status = error.statusCode;
  const said = errorMessage(error).slice(0, 200);
  if (status === 401 || status === 403) {
    return new TwelveError('config_invalid', `model ${model}: the provider refused the credentials (HTTP ${status}: ${said}); check ${providerVariables(model)}`, {
      details: { model, status },
    });
  }
  if (status === 404) {
    return new TwelveError('config_invalid', `model ${model}: the provider answered HTTP 404 (${said}); check the model id and ${providerVariables(model)}`, {
      details: { model, status },
    });
  }
  return undefined;
}

interface AttemptOptions {
  timeoutMs: number;
  signal: AbortSignal | undefined;
  onText: ((text: string) => void) | undefined;
  cacheKey: string | undefined;
}

async function generateOnce(
  caller: ModelCaller,
  release: AgentRelease,
  model: string,
  request: LanguageModelV3CallOptions,
  { timeoutMs, signal, onText, cacheKey }: AttemptOptions,
): Promise<LanguageModelV3GenerateResult> {
  let recordings: RecordingStore | undefined;
  let key: string | undefined;
  if (caller.mode !== 'live') {
    recordings = caller.recordings(release);
    key = requestKey(model, request);
    if (caller.mode === 'replay') {
      const recorded = recordings.read(key);
      if (!recorded) throw replayMissing(model, key, recordings.directory, release.agent.name);
      if (onText) {
        const text = recorded.response.content.map((part) => (part.type === 'text' ? part.text : '')).join('');
        if (text) onText(text);
      }
      return { ...recorded.response, warnings: [] };
    }
  }
  const languageModel = await caller.resolver.resolve(model);
  const timeout = new TimeoutSignal(timeoutMs);
  try {
    const abortSignal = signal ? AbortSignal.any([signal, timeout.signal]) : timeout.signal;
    // Added after the recording key and only to what is sent: recordings and replay do not
    // depend on the cache setting, and a fallback to another provider gets its own options.
    const sent = { ...withPromptCache({ request, model, cache: release.cache, cacheKey }), abortSignal };
    const result = onText ? await collectStream((await languageModel.doStream(sent)).stream, onText) : await languageModel.doGenerate(sent);
    if (recordings && key) {
      const { content, finishReason, usage } = result;
      recordings.write({ key, model, lastMessage: request.prompt[request.prompt.length - 1], response: { content, finishReason, usage } });
    }
    return result;
  } catch (error) {
    if (timeout.fired) throw new ModelTimeoutError(timeoutMs, error);
    throw error;
  } finally {
    timeout.clear();
  }
}

/** A timer-backed abort signal that can be cleared (AbortSignal.timeout cannot). */
class TimeoutSignal {
  private readonly controller = new AbortController();
  private readonly timer: NodeJS.Timeout;
  fired = false;

  constructor(ms: number) {
    this.timer = setTimeout(() => {
      this.fired = true;
      this.controller.abort(new ModelTimeoutError(ms));
    }, ms);
    this.timer.unref?.();
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  clear(): void {
    clearTimeout(this.timer);
  }
}

class ModelTimeoutError extends Error {
  constructor(ms: number, cause?: unknown) {
    super(`timed out after ${ms} ms`, { cause });
    this.name = 'ModelTimeoutError';
  }
}

function describeFailure(model: string, attempt: number, error: unknown, timeoutMs: number) {
  if (error instanceof ModelTimeoutError) {
    return { retryable: true, retryAfterMs: undefined, record: { model, attempt, error: `timed out after ${timeoutMs} ms` } };
  }
  if (APICallError.isInstance(error)) {
    const status = error.statusCode;
    const record: ModelAttemptFailure = { model, attempt, error: `HTTP ${status ?? '?'}: ${errorMessage(error).slice(0, 300)}` };
    if (status !== undefined) record.status = status;
    return { retryable: error.isRetryable, retryAfterMs: retryAfter(error.responseHeaders), record };
  }
  // fetch() network failures (connection refused, reset) surface as TypeError: worth a retry.
  const retryable = error instanceof TypeError && /fetch|network|socket|ECONN/i.test(`${error.message} ${String(error.cause)}`);
  return { retryable, retryAfterMs: undefined, record: { model, attempt, error: errorMessage(error).slice(0, 300) } };
}

function retryAfter(headers: Record<string, string> | undefined): number | undefined {
  const ms = Number(headers?.['retry-after-ms']);
  if (Number.isFinite(ms) && ms >= 0) return Math.min(ms, 10_000);
  const seconds = Number(headers?.['retry-after']);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.min(seconds * 1000, 10_000);
  return undefined;
}

function backoff(baseMs: number, attempt: number): number {
  const ceiling = Math.min(8_000, baseMs * 2 ** (attempt - 1));
  return ceiling / 2 + Math.random() * (ceiling / 2);
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
