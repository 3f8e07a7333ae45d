/**
 * The event vocabulary of a thread: one zod discriminated union shared by the store,
 * the runtime, the logs and the CLI. A thread's log is append-only; everything else
 * (status, context window, cost) is derived from it.
 */
import { z } from 'zod';

const compactError = z.object({
  /** Stable machine code: unknown_tool, invalid_json, invalid_arguments, tool_error, ... */
  code: z.string(),
  /** One short line the model (and a human) can act on. */
  message: z.string(),
});
export type CompactError = z.infer<typeof compactError>;

const tokens = z.number().int().nonnegative();
/**
 * A model call's tokens. `inputTokens` is every input token, cached or not; of those, the provider
 * read `cachedInputTokens` from its prompt cache (billed at the cached-read rate) and wrote
 * `cacheWriteTokens` to it (Anthropic bills writes above the input rate). Both are absent when
 * the provider reported none (and in events recorded before they were kept).
 */
const usage = z.object({
  inputTokens: tokens,
  outputTokens: tokens,
  cachedInputTokens: tokens.optional(),
  cacheWriteTokens: tokens.optional(),
});
export type TokenUsage = z.infer<typeof usage>;

const modelAttemptFailure = z.object({
  model: z.string(),
  attempt: z.number().int(),
  error: z.string(),
  status: z.number().int().optional(),
  /** How long the failed attempt took (absent in events recorded before it was kept). */
  latencyMs: z.number().nonnegative().optional(),
});
export type ModelAttemptFailure = z.infer<typeof modelAttemptFailure>;

/** A content-addressed blob (blobs table): "sha256:<hex>" and its size in bytes. */
const blobRef = z.object({ ref: z.string(), bytes: z.number().int().nonnegative() });

const buildEventDataSchemas = () => ({
  thread_started: z.object({
    agent: z.string(),
    input: z.unknown(),
    metadata: z.record(z.string(), z.unknown()).optional(),
    /** The W3C trace context the thread was launched in: every later step span joins that trace. */
    trace: z.object({ traceparent: z.string(), tracestate: z.string().optional() }).optional(),
    /**
     * A child thread (agentTool): the parent's thread and call it answers, and the limits the parent
     * gave it (the child's own, capped by what the parent had left when it launched the child).
     */
    parent: z
      .object({
        threadId: z.string(),
        callId: z.string(),
        limits: z.object({ maxCostUsd: z.number().nonnegative().optional(), maxTokens: z.number().int().nonnegative().optional() }).optional(),
      })
      .optional(),
  }),
  tool_requested: z.object({
    callId: z.string(),
    tool: z.string(),
    /** Parsed arguments; null when the model sent arguments that are not JSON. */
    args: z.unknown(),
    /** The raw argument text, kept only when it could not be parsed. */
    argsText: z.string().optional(),
    source: z.enum(['model', 'prefetch']),
  }),
  tool_started: z.object({ callId: z.string(), idempotencyKey: z.string(), attempt: z.number().int().positive() }),
  tool_succeeded: z.object({
    callId: z.string(),
    /** Over TWELVE_MAX_PAYLOAD_BYTES: a text preview ending in a truncation note the model reads; the full result is in `blob`. */
    result: z.unknown(),
    durationMs: z.number().nonnegative(),
    replayed: z.enum(['recorded', 'fake']).optional(),
    /** The full result, stored once by hash, when `result` is only its truncated preview. */
    blob: blobRef.optional(),
  }),
  tool_failed: z.object({
    callId: z.string(),
    error: compactError,
    durationMs: z.number().nonnegative().optional(),
    /** In a shadow (replay) thread: the outcome is the origin's recorded one, or the tool's fake's; the tool did not run. */
    replayed: z.enum(['recorded', 'fake']).optional(),
  }),
  model_called: z.object({
    model: z.string(),
    attempt: z.number().int().positive(),
    /** 0 for the agent's primary model, n for the n-th fallback. */
    fallbackIndex: z.number().int().nonnegative(),
    latencyMs: z.number().nonnegative(),
    usage,
    /** null when the model has no known price. */
    costUsd: z.number().nonnegative().nullable(),
    text: z.string(),
    toolCalls: z.array(z.object({ callId: z.string(), tool: z.string() })),
    finishReason: z.string(),
    /** Number of messages the model was shown (the messages are re-derivable from earlier events). */
    contextMessages: z.number().int().nonnegative(),
    /** Attempts that failed before this one succeeded (retries and fallbacks). */
    failures: z.array(modelAttemptFailure).optional(),
    /** The whole step, failed attempts and retry waits included; set when there were failures. */
    totalLatencyMs: z.number().nonnegative().optional(),
    /** The exact request sent (model/request-record.ts); absent from events recorded before it was kept. */
    request: blobRef.optional(),
  }),
  model_failed: z.object({
    error: compactError,
    failures: z.array(modelAttemptFailure),
    /** The whole step, every attempt and retry wait included. */
    totalLatencyMs: z.number().nonnegative().optional(),
    /** The request every attempt sent (as model_called.request); absent from events recorded before it was kept. */
    request: blobRef.optional(),
  }),
  model_output_invalid: z.object({ text: z.string(), error: compactError }),
  /** The call waits for a person's approval before it may run. Appended with tool_requested, atomically. */
  approval_requested: z.object({
    callId: z.string(),
    tool: z.string(),
    args: z.unknown(),
    reason: z.string(),
    /** Roles allowed to decide; with `people`, empty means anyone. */
    approvers: z.array(z.string()),
    /**
     * People (by name) allowed to decide. Absent from events recorded before roles and people
     * were told apart, whose `approvers` were "names or roles" (runtime/human.ts reads those).
     */
    people: z.array(z.string()).optional(),
    /** ISO time after which `onTimeout` is applied (by: "timeout"). */
    deadline: z.string().optional(),
    onTimeout: z.enum(['approve', 'reject']),
  }),
  approval_decided: z.object({
    callId: z.string(),
    approved: z.boolean(),
    /** Who decided: a person's name, or "timeout". */
    by: z.string(),
    comment: z.string().optional(),
  }),
  /**
   * The model asked a person (the ask_human tool); the answer becomes the tool result. With
   * `about: 'interrupted_tool'` the runtime asks instead: an external call kept being
   * interrupted, did it happen? (thread/interrupted-tool.ts; the answer settles the call).
   */
  human_asked: z.object({
    callId: z.string(),
    question: z.string(),
    urgency: z.enum(['low', 'normal', 'high']),
    options: z.array(z.string()).optional(),
    deadline: z.string().optional(),
    defaultAnswer: z.string().optional(),
    about: z.enum(['interrupted_tool']).optional(),
  }),
  /** `comment`: what the person added to an answer about an interrupted call ("happened: refund R-9"). */
  human_answered: z.object({ callId: z.string(), answer: z.string(), by: z.string(), comment: z.string().optional() }),
  /** A tool asked to be called again later: the thread sleeps in the store until `until`. */
  tool_sleeping: z.object({ callId: z.string(), until: z.string(), reason: z.string().optional() }),
  /** Checked before the call, from recorded spend plus the call's worst-case estimate. */
  budget_exceeded: z.object({
    limit: z.enum(['cost', 'tokens', 'steps', 'daily_cost', 'tenant_daily_cost']),
    used: z.number().nonnegative(),
    estimate: z.number().nonnegative(),
    max: z.number().nonnegative(),
    message: z.string(),
    /** Models of the chain with no known price: the call could not be priced ahead, so it was refused (estimate is 0). */
    unpricedModels: z.array(z.string()).optional(),
    /** Earlier calls of this thread with no known price: its spend is unknown, so the cost limit could not be checked. */
    unpricedCalls: z.number().int().positive().optional(),
  }),
  /** A person set this thread's limits (raised after a breach, or lowered, never below what is used). */
  budget_raised: z.object({
    by: z.string(),
    maxCostUsd: z.number().positive().optional(),
    maxTokens: z.number().int().positive().optional(),
    maxSteps: z.number().int().positive().optional(),
    comment: z.string().optional(),
    /** The limits in force before, for the ones set here (null: there was none), so a lowering reads as one. */
    previous: z
      .object({ maxCostUsd: z.number().nullable().optional(), maxTokens: z.number().nullable().optional(), maxSteps: z.number().optional() })
      .optional(),
  }),
  /**
   * The thread cannot go on until a person fixes the configuration (no provider key or base URL,
   * no recording to replay, credentials refused): it waits instead of being retried blindly,
   * and `resumed` (twelve resume) tries again. Transient provider errors are model_failed.
   */
  blocked: z.object({ error: compactError, failures: z.array(modelAttemptFailure).optional() }),
  escalated: z.object({
    reason: z.string(),
    consecutiveErrors: z.number().int().nonnegative(),
    kind: z.enum(['errors', 'budget']).optional(),
  }),
  /**
   * The first step of a thread on a release other than the one that wrote its latest event.
   * `hold`: the thread waits for a person (twelve resume moves it on, twelve cancel ends it).
   */
  release_changed: z.object({
    from: z.string(),
    to: z.string(),
    compatible: z.boolean(),
    /** What differs between the two releases, each as a kind (prompt, model, tool_input, ...) and one readable line. */
    changes: z.array(z.object({ kind: z.string(), detail: z.string() })),
    decision: z.enum(['continue', 'hold']),
    /** Why it holds or goes on (the agent's onNewRelease, the incompatibility found). */
    reason: z.string(),
  }),
  /**
   * Appended right after a fork's copies of its origin's events 1..atSeq (which keep their
   * release ids and times): the fork goes on from here on the forking runtime's release.
   * `shadow`: a replay, in which tools that are not pure never run for real and nobody is notified.
   */
  thread_forked: z.object({
    from: z.string(),
    atSeq: z.number().int().positive(),
    by: z.string(),
    shadow: z.object({ replayOf: z.string() }).optional(),
  }),
  paused: z.object({ by: z.string(), reason: z.string().optional() }),
  resumed: z.object({ by: z.string(), comment: z.string().optional() }),
  cancelled: z.object({ by: z.string(), reason: z.string().optional() }),
  /**
   * A final answer that needs a person's review before it completes the thread (the agent's
   * `review` policy): the thread waits, durably, like an approval. `output` is the answer as
   * produced (kept even when a reviewer edits it); `source` says whether the model or the
   * agent's non-LLM fallback produced it.
   */
  review_requested: z.object({
    output: z.unknown(),
    confidence: z.number().optional(),
    source: z.enum(['model', 'fallback']),
    reason: z.string(),
    /** Roles allowed to review; with `people` empty, empty means anyone. */
    reviewers: z.array(z.string()),
    people: z.array(z.string()),
    /** ISO time after which `onTimeout` is applied (by: "timeout"). */
    deadline: z.string().optional(),
    /** approve: the answer ships as it is; fail: the thread fails (review_timeout). */
    onTimeout: z.enum(['approve', 'fail']),
  }),
  /**
   * A reviewer's decision. approved: the output ships as it is. edited: `output` (validated
   * against the output schema) ships instead of the original. sent_back: the model sees
   * `feedback` as its next input and answers again. rejected: the thread fails (review_rejected).
   */
  review_decided: z.object({
    decision: z.enum(['approved', 'edited', 'sent_back', 'rejected']),
    /** A person's name, or "timeout". */
    by: z.string(),
    comment: z.string().optional(),
    output: z.unknown().optional(),
    feedback: z.string().optional(),
  }),
  /**
   * The agent's non-LLM fallback answered (`fallback` in defineAgent), because every model of
   * the chain failed, the provider configuration blocked every call, or (when the agent says
   * so) a budget was exhausted. `output` is validated against the output schema.
   */
  fallback_used: z.object({
    reason: z.enum(['models_failed', 'blocked', 'budget']),
    /** The failure it stands in for, one line. */
    detail: z.string(),
    output: z.unknown(),
  }),
  /**
   * An agentTool call launched its child thread (id derived from the call's idempotency key): the
   * call now waits, without a worker, until the child ends. `checkAt`: when a worker looks at the
   * child again even if nobody wakes the parent (the child's wake-up was lost with its worker).
   */
  child_started: z.object({ callId: z.string(), childThreadId: z.string(), agent: z.string(), checkAt: z.string().optional() }),
  /** The child thread ended; appended with the call's outcome (its output, or a tool failure). Its spend rolls up to this thread. */
  child_finished: z.object({
    callId: z.string(),
    childThreadId: z.string(),
    status: z.enum(['completed', 'failed', 'cancelled']),
    /** null when some of the child's model calls had no known price. */
    costUsd: z.number().nonnegative().nullable(),
    inputTokens: z.number().int().nonnegative(),
    outputTokens: z.number().int().nonnegative(),
    /** Of the child's input tokens, those read from / written to a provider's prompt cache (absent: none). */
    cachedInputTokens: tokens.optional(),
    cacheWriteTokens: tokens.optional(),
  }),
  thread_completed: z.object({
    output: z.unknown(),
    /** The output's confidence (0..1), read where the agent declared it (`confidence` in defineAgent). */
    confidence: z.number().optional(),
    /** Who produced the output: the model (default), the non-LLM fallback, or a reviewer's edit. */
    source: z.enum(['model', 'fallback', 'review']).optional(),
    /** Set when a person reviewed the output before it completed the thread. */
    reviewedBy: z.string().optional(),
  }),
  thread_failed: z.object({ error: compactError }),
  /**
   * A conversation's next user message, appended to a completed thread (POST /v1/threads/{id}/messages,
   * twelve say): the thread is runnable again; the model reads its earlier answers and this text.
   * `messageId`: chosen by the client, so a retried send is recorded once.
   */
  message_added: z.object({ text: z.string(), by: z.string(), messageId: z.string().optional() }),
}) as const;

type EventDataSchemas = ReturnType<typeof buildEventDataSchemas>;
let builtEventDataSchemas: EventDataSchemas | undefined;
/**
 * The data schema of each event type, built on first use: ~100 zod schemas are ~10 ms of a
 * cold start, and a worker never needs them (bench/cold-start.mjs); the API and users do.
 */
export const eventDataSchemas = (): EventDataSchemas => (builtEventDataSchemas ??= buildEventDataSchemas());

export type EventType = keyof EventDataSchemas;
const listedTypes = [
  'thread_started', 'tool_requested', 'tool_started', 'tool_succeeded', 'tool_failed', 'model_called', 'model_failed', 'model_output_invalid',
  'approval_requested', 'approval_decided', 'human_asked', 'human_answered', 'tool_sleeping', 'budget_exceeded', 'budget_raised', 'blocked',
  'escalated', 'release_changed', 'thread_forked', 'paused', 'resumed', 'cancelled', 'review_requested', 'review_decided', 'fallback_used',
  'child_started', 'child_finished', 'thread_completed', 'thread_failed', 'message_added',
] as const satisfies readonly EventType[];
// A type added to buildEventDataSchemas must be listed above too: this line fails to compile otherwise.
const everyTypeListed: Exclude<EventType, (typeof listedTypes)[number]> extends never ? true : never = true;
void everyTypeListed;
/** Every event type (a plain list, so that naming them builds no schema). */
export const eventTypes: EventType[] = [...listedTypes];
export type EventData<T extends EventType> = z.infer<EventDataSchemas[T]>;

/** An event before it is stored: the store assigns `seq`. */
export type NewEvent = { [T in EventType]: { type: T; data: EventData<T> } }[EventType];

/**
 * A stored event. `releaseId` names the exact agent definition that produced it. `hash`: its link in
 * the thread's tamper-evident chain (src/audit/chain.ts), as the store returns it; null for an event
 * written before the chain existed.
 */
export type ThreadEvent = NewEvent & { threadId: string; seq: number; at: string; releaseId: string; hash?: string | null };

const envelope = { threadId: z.string(), seq: z.number().int().positive(), at: z.string(), releaseId: z.string() };

/** A stored event, validated (built on first use, like eventDataSchemas). */
export const threadEventSchema = z.lazy(() =>
  z.discriminatedUnion(
    'type',
    eventTypes.map((type) => z.object({ ...envelope, type: z.literal(type), data: eventDataSchemas()[type] })) as unknown as [z.ZodObject, ...z.ZodObject[]],
  ),
);

/** An event before it is stored, validated (built on first use). */
export const newEventSchema = z.lazy(() =>
  z.discriminatedUnion('type', eventTypes.map((type) => z.object({ type: z.literal(type), data: eventDataSchemas()[type] })) as unknown as [z.ZodObject, ...z.ZodObject[]]),
);

/** Build a typed event; `event('tool_started', {...})` checks the data shape at compile time. */
export function event<T extends EventType>(type: T, data: EventData<T>): NewEvent {
  return { type, data } as NewEvent;
}
