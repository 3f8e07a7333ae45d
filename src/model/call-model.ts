/**
 * One model step: the primary model with retries (backoff on 429 / 5xx / timeouts,
 * honouring Retry-After), then each fallback in turn. Calls the provider adapter's
 * doGenerate directly: Twelve runs tools itself, so the AI SDK's higher-level loop
 * would only add overhead. Record/replay sits here, below retries and fallbacks.
 */
import { APICallError, type LanguageModelV3CallOptions, type LanguageModelV3GenerateResult } from '@ai-sdk/provider';
import type { AgentRelease } from '../agent/release.js';
import type { ModelMode } from '../config/env.js';
import { TwelveError, errorMessage } from '../errors.js';
import type { ModelAttemptFailure } from '../thread/events.js';
import type { ContextMessage } from '../thread/render-context.js';
import type { PriceTable } from './prices.js';
import type { ModelResolver } from './providers.js';
import { type RecordingStore, replayMissing, requestKey } from './recording.js';

export interface ModelCallSuccess {
  model: string;
  attempt: number;
  fallbackIndex: number;
  latencyMs: number;
  result: LanguageModelV3GenerateResult;
  usage: { inputTokens: number; outputTokens: number };
  costUsd: number | null;
  failures: ModelAttemptFailure[];
  /** The whole step: failed attempts and retry waits included. */
  totalLatencyMs: number;
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

export interface ModelCaller {
  resolver: ModelResolver;
  prices: PriceTable;
  mode: ModelMode;
  recordings: (release: AgentRelease) => RecordingStore;
  /** First retry delay; doubles each retry (with jitter). */
  retryBaseMs: number;
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

export async function callModel(
  caller: ModelCaller,
  release: AgentRelease,
  request: LanguageModelV3CallOptions,
  signal: AbortSignal | undefined,
): Promise<ModelCallSuccess> {
  const failures: ModelAttemptFailure[] = [];
  const { timeoutMs, maxRetries } = release.settings;
  const stepStarted = performance.now();
  for (const [fallbackIndex, model] of release.models.entries()) {
    for (let attempt = 1; attempt <= maxRetries + 1; attempt++) {
      signal?.throwIfAborted();
      const started = performance.now();
      try {
        const result = await generateOnce(caller, release, model, request, timeoutMs, signal);
        const usage = {
          inputTokens: result.usage.inputTokens.total ?? 0,
          outputTokens: result.usage.outputTokens.total ?? 0,
        };
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
        };
      } catch (error) {
        if (signal?.aborted) throw error;
        if (TwelveError.is(error, 'replay_missing') || TwelveError.is(error, 'config_invalid')) throw error;
        const failure = describeFailure(model, attempt, error, timeoutMs);
        failures.push({ ...failure.record, latencyMs: millisecondsSince(started) });
        if (!failure.retryable || attempt > maxRetries) break;
        await sleep(failure.retryAfterMs ?? backoff(caller.retryBaseMs, attempt), signal);
      }
    }
  }
  throw new ModelCallError(failures, millisecondsSince(stepStarted));
}

function millisecondsSince(started: number): number {
  return Math.round((performance.now() - started) * 1000) / 1000;
}

async function generateOnce(
  caller: ModelCaller,
  release: AgentRelease,
  model: string,
  request: LanguageModelV3CallOptions,
  timeoutMs: number,
  signal: AbortSignal | undefined,
): Promise<LanguageModelV3GenerateResult> {
  let recordings: RecordingStore | undefined;
  let key: string | undefined;
  if (caller.mode !== 'live') {
    recordings = caller.recordings(release);
    key = requestKey(model, request);
    if (caller.mode === 'replay') {
      const recorded = recordings.read(key);
      if (!recorded) throw replayMissing(model, key, recordings.directory, release.agent.name);
      return { ...recorded.response, warnings: [] };
    }
  }
  const languageModel = await caller.resolver.resolve(model);
  const timeout = new TimeoutSignal(timeoutMs);
  try {
    const abortSignal = signal ? AbortSignal.any([signal, timeout.signal]) : timeout.signal;
    const result = await languageModel.doGenerate({ ...request, abortSignal });
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
