/**
 * The HTTP API's bodies, defined once with zod: the server validates with them, the
 * OpenAPI 3.1 document at /openapi.json is generated from them, and the typed client
 * (twelve-agents/client) takes its types from them.
 */
import { z } from '@hono/zod-openapi';
import { eventTypes } from '../thread/events.js';
import { threadStatuses } from '../thread/state.js';

export const ErrorBody = z
  .object({
    error: z.object({
      code: z.string().openapi({ example: 'thread_not_found' }),
      message: z.string().openapi({ example: 'no thread "th_123"' }),
      details: z.record(z.string(), z.unknown()).optional(),
    }),
  })
  .openapi('Error');

export const ThreadStatus = z.enum(threadStatuses as [string, ...string[]]).openapi('ThreadStatus');

export const CompactError = z.object({ code: z.string(), message: z.string() }).openapi('CompactError');

export const PendingApproval = z
  .object({
    kind: z.literal('approval'),
    callId: z.string(),
    tool: z.string(),
    args: z.unknown(),
    reason: z.string(),
    /** Roles that may decide (people and roles are distinct; both empty: anyone). */
    approvers: z.array(z.string()),
    /** People, by the name their API key acts under, who may decide. */
    people: z.array(z.string()),
    deadline: z.string().nullable(),
    onTimeout: z.enum(['approve', 'reject']),
  })
  .openapi('PendingApproval');

export const PendingQuestion = z
  .object({
    kind: z.literal('question'),
    callId: z.string(),
    question: z.string(),
    urgency: z.enum(['low', 'normal', 'high']),
    options: z.array(z.string()).nullable(),
    deadline: z.string().nullable(),
  })
  .openapi('PendingQuestion');

export const PendingEscalation = z
  .object({
    /**
     * blocked: the configuration must be fixed (a provider key, a recording), then the thread resumed.
     * release: a worker on another release holds it; resume moves it to that release, cancel ends it.
     */
    kind: z.enum(['escalation', 'budget', 'blocked', 'release']),
    reason: z.string(),
    /** Seq of the event that asked: the same reason asked again (after guidance, a send-back) is a new item. */
    seq: z.number().int(),
  })
  .openapi('PendingEscalation');

export const PendingReview = z
  .object({
    kind: z.literal('review'),
    /** The final answer as produced; an edit replaces it as the thread's output (the original stays in the log). */
    output: z.unknown(),
    confidence: z.number().nullable(),
    source: z.enum(['model', 'fallback']),
    reason: z.string(),
    /** Roles that may review (people and roles are distinct; both empty: anyone). */
    reviewers: z.array(z.string()),
    people: z.array(z.string()),
    deadline: z.string().nullable(),
    onTimeout: z.enum(['approve', 'fail']),
    /** Seq of the event that asked: the same reason asked again (after guidance, a send-back) is a new item. */
    seq: z.number().int(),
  })
  .openapi('PendingReview');

export const Pending = z.union([PendingApproval, PendingQuestion, PendingEscalation, PendingReview]).openapi('Pending');

export const ForkOf = z
  .object({
    threadId: z.string(),
    seq: z.number().int().openapi({ description: 'The last event copied from it' }),
    by: z.string(),
    replayOf: z.string().nullable().openapi({ description: 'A shadow (replay) thread: whose recorded tool results it uses; tools that are not pure never run in it' }),
  })
  .openapi('ForkOf');

export const ForkBody = z
  .object({
    atSeq: z.number().int().min(1).openapi({ description: "The origin's last event to copy", example: 4 }),
    shadow: z.boolean().optional().openapi({ description: 'A replay: tools that are not pure are served from the origin\'s recorded results or fakes, never run; nobody is notified' }),
    release: z.string().optional().openapi({ description: 'Only "current" (the server\'s release of the agent) is possible' }),
  })
  .strict()
  .openapi('ForkRequest');

export const Fallback = z
  .object({
    reason: z.enum(['models_failed', 'blocked', 'budget']).openapi({ description: 'Every model of the chain failed, the provider configuration blocked them all, or a budget ran out' }),
    detail: z.string().openapi({ description: 'The failure the fallback stood in for, one line' }),
  })
  .openapi('Fallback');

export const Thread = z
  .object({
    id: z.string().openapi({ example: 'th_mwyq9qtr6ad38ca93ac9' }),
    agent: z.string(),
    status: ThreadStatus,
    seq: z.number().int(),
    releaseId: z.string(),
    input: z.unknown(),
    output: z.unknown(),
    confidence: z.number().nullable().openapi({ description: "The output's confidence (0..1), where the agent declares one (`confidence` in defineAgent); null: none" }),
    error: CompactError.nullable(),
    waitingReason: z.string().nullable(),
    modelSteps: z.number().int(),
    inputTokens: z.number().int().openapi({ description: 'Every input token of its model calls (and its child threads\'), cached or not' }),
    outputTokens: z.number().int(),
    cachedInputTokens: z.number().int().openapi({ description: "Of inputTokens, those read from a provider's prompt cache (billed at the cached rate)" }),
    cacheWriteTokens: z.number().int().openapi({ description: "Of inputTokens, those written to a provider's prompt cache (Anthropic bills them above the input rate)" }),
    costUsd: z.number().nullable().openapi({
      description: 'USD spent on model calls; null when any call had no known price (unpricedCalls > 0): the spend is then unknown, never $0',
    }),
    pricedCostUsd: z.number().openapi({ description: 'USD spent on the model calls that had a known price (equals costUsd when unpricedCalls is 0)' }),
    unpricedCalls: z.number().int().openapi({ description: 'Model calls with no known price; give their models one with TWELVE_MODEL_PRICES' }),
    tenant: z.string().nullable().openapi({ description: 'Who its spend is attributed to: its launch metadata under TWELVE_TENANT_KEY; null: none' }),
    parentThreadId: z.string().nullable().openapi({ description: "The thread whose agentTool call launched this one (a child thread); null: none" }),
    createdAt: z.string(),
    updatedAt: z.string(),
    wakeAt: z.string().nullable().openapi({ description: 'When a deadline or wake-up falls due' }),
    running: z.boolean().openapi({ description: 'A worker holds the thread right now' }),
    forkOf: ForkOf.nullable()
      .optional()
      .openapi({ description: 'Set in lists, details and fork results: the thread this one was forked from (null: not a fork)' }),
    fallback: Fallback.nullable()
      .optional()
      .openapi({ description: "Set in lists and details: the agent's non-LLM fallback produced the output, and why (null: it did not)" }),
  })
  .openapi('Thread');

/** A child thread as its parent's detail lists it. */
export const ChildThread = z
  .object({
    id: z.string(),
    agent: z.string(),
    status: ThreadStatus,
    costUsd: z.number().nullable(),
    createdAt: z.string(),
  })
  .openapi('ChildThread');

export const ThreadDetail = Thread.extend({
  /** The threads this one launched through agentTool calls, oldest first. */
  children: z.array(ChildThread).openapi({ description: 'The threads its agentTool calls launched (child threads), oldest first' }),
  /** What the thread waits for, when it waits for a person. */
  pending: z.array(Pending),
}).openapi('ThreadDetail');

export const Event = z
  .object({
    threadId: z.string(),
    seq: z.number().int(),
    type: z.enum(eventTypes as [string, ...string[]]),
    at: z.string(),
    releaseId: z.string(),
    data: z.record(z.string(), z.unknown()),
    hash: z
      .string()
      .nullable()
      .optional()
      .openapi({ description: "The event's link in its thread's hash chain (sha256, hex; null for events written before the chain existed): twelve audit verify recomputes it" }),
  })
  .openapi('Event');

export const LaunchBody = z
  .object({
    agent: z.string().min(1).openapi({ example: 'refunds' }),
    input: z
      .unknown()
      .refine((value) => value !== undefined, 'input is required (a string, or JSON for agents with a structured input)')
      .openapi({ example: 'Refund order A-1001, it arrived broken' }),
    metadata: z.record(z.string(), z.unknown()).optional(),
  })
  .strict()
  .openapi('LaunchRequest');

export const LaunchResult = z.object({ thread: Thread, created: z.boolean() }).openapi('LaunchResult');

export const ForkResult = z.object({ thread: Thread }).openapi('ForkResult');

export const ThreadList = z
  .object({ threads: z.array(Thread), nextCursor: z.string().nullable() })
  .openapi('ThreadList');

export const EventList = z.object({ events: z.array(Event), lastSeq: z.number().int() }).openapi('EventList');

export const DecisionBody = z
  .object({
    approved: z.boolean(),
    callId: z.string().optional().openapi({ description: 'Required when several calls wait for approval' }),
    comment: z.string().max(2000).optional(),
  })
  .strict()
  .openapi('DecisionRequest');

export const AnswerBody = z
  .object({
    answer: z.string().min(1).max(10_000),
    callId: z.string().optional(),
  })
  .strict()
  .openapi('AnswerRequest');

export const ReviewBody = z
  .object({
    decision: z.enum(['approved', 'edited', 'sent_back', 'rejected']),
    output: z.unknown().optional().openapi({ description: "edited: the corrected output, validated against the agent's output schema (400 with the issues when it does not match)" }),
    feedback: z.string().min(1).max(10_000).optional().openapi({ description: 'sent_back: what the model should change; it reads this as its next input' }),
    comment: z.string().max(2000).optional(),
  })
  .strict()
  .refine((b) => b.decision !== 'edited' || b.output !== undefined, { path: ['output'], message: 'an edit needs the corrected output' })
  .refine((b) => b.decision !== 'sent_back' || (b.feedback !== undefined && b.feedback.trim() !== ''), { path: ['feedback'], message: 'sending an answer back needs feedback' })
  .openapi('ReviewRequest');

export const MessageBody = z
  .object({
    text: z.string().min(1).max(100_000).refine((text) => text.trim() !== '', 'the message text is empty').openapi({ description: "The user's next message; the model reads it after the thread's earlier turns" }),
    messageId: z
      .string()
      .regex(/^[\w.:-]{1,200}$/, '1-200 letters, digits, _ . : or -')
      .optional()
      .openapi({ description: 'Chosen by the client: a retried send with the same id is recorded once (200, added: false); the same id with another text is 409' }),
  })
  .strict()
  .openapi('MessageRequest');

export const ControlBody = z.object({ reason: z.string().max(2000).optional() }).strict().openapi('ControlRequest');
export const ResumeBody = z.object({ comment: z.string().max(2000).optional() }).strict().openapi('ResumeRequest');

export const BudgetBody = z
  .object({
    maxCostUsd: z.number().positive().optional(),
    maxTokens: z.number().int().positive().optional(),
    maxSteps: z.number().int().positive().optional(),
    comment: z.string().max(2000).optional(),
  })
  .strict()
  .refine((b) => b.maxCostUsd !== undefined || b.maxTokens !== undefined || b.maxSteps !== undefined, 'give at least one of maxCostUsd, maxTokens, maxSteps')
  .openapi('BudgetRequest');

export const ActionResult = z.object({ thread: Thread, applied: z.boolean() }).openapi('ActionResult');
export const MessageResult = z
  .object({ thread: Thread, added: z.boolean().openapi({ description: 'false: a message with this messageId was already recorded' }), seq: z.number().int().openapi({ description: "The message's seq (the thread's seq for a repeat): stream or wait for events after it" }) })
  .openapi('MessageResult');

export const InboxItem = z.object({ thread: Thread, pending: z.array(Pending) }).openapi('InboxItem');
export const Inbox = z.object({ items: z.array(InboxItem) }).openapi('Inbox');

export const AgentManifest = z
  .object({
    name: z.string(),
    purpose: z.string(),
    releaseId: z.string(),
    models: z.array(z.string()),
    tools: z.array(
      z.object({
        name: z.string(),
        description: z.string(),
        inputSchema: z.record(z.string(), z.unknown()),
        approval: z.object({ policy: z.enum(['always', 'never', 'predicate']), approvers: z.array(z.string()), people: z.array(z.string()), timeoutMs: z.number().nullable(), onTimeout: z.enum(['approve', 'reject']) }),
        binding: z.string().openapi({ description: 'The implementation in force: live (run), fake, or one the tool declares (TWELVE_TOOL_<NAME>, config toolBindings)', example: 'live' }),
        mcpServer: z.string().nullable().openapi({ description: 'The MCP server the tool comes from; null for tools written in code' }),
      }),
    ),
    outputSchema: z.record(z.string(), z.unknown()).nullable(),
    limits: z.record(z.string(), z.unknown()),
    review: z
      .object({ policy: z.enum(['always', 'never', 'predicate']), reviewers: z.array(z.string()), people: z.array(z.string()), timeoutMs: z.number().nullable(), onTimeout: z.enum(['approve', 'fail']) })
      .openapi({ description: "Who reviews the agent's answers before they count: never, always, or a predicate of the output; reviewers (roles) and people (names), both empty meaning anyone; after timeoutMs the answer is approved or the thread fails" }),
    fallback: z
      .object({ on: z.array(z.enum(['models_failed', 'blocked', 'budget'])) })
      .nullable()
      .openapi({ description: 'When the non-LLM fallback answers instead of a model; null: the agent has none' }),
    confidence: z
      .union([z.object({ field: z.string() }), z.object({ function: z.literal(true) })])
      .nullable()
      .openapi({ description: "Where the output's confidence is read: a top-level output field, or a function of the output; null: none" }),
    promptCache: z
      .object({
        cache: z.enum(['auto', 'off']),
        warnings: z.array(z.object({ code: z.enum(['unknown_placeholder', 'input_in_prompt']), placeholder: z.string(), message: z.string() })),
      })
      .openapi({ description: 'Provider prompt caching: auto (Anthropic breakpoints, an OpenAI cache key) or off; and what in the prompt template would defeat it' }),
  })
  .openapi('Agent');

export const AgentList = z.object({ agents: z.array(AgentManifest) }).openapi('AgentList');

const Json = z.record(z.string(), z.unknown());
const ThreadCounts = z.record(z.string(), z.number().int()).openapi({ description: 'Threads whose latest event this release wrote, per status', example: { completed: 12, awaiting_approval: 1 } });

export const ReleaseSummary = z
  .object({
    id: z.string().openapi({ example: 'rel_3f9a1c0d5e7b2a64' }),
    agent: z.string(),
    createdAt: z.string(),
    ordinal: z.number().int().openapi({ description: 'Creation order in the store: higher is newer' }),
    current: z.boolean().openapi({ description: 'The server runs this release' }),
    threadsByStatus: ThreadCounts,
  })
  .openapi('ReleaseSummary');

export const ReleaseList = z.object({ releases: z.array(ReleaseSummary) }).openapi('ReleaseList');

export const Release = z
  .object({
    id: z.string(),
    agent: z.string(),
    createdAt: z.string().nullable().openapi({ description: 'null: the server\'s current release, not yet in the store' }),
    ordinal: z.number().int().nullable(),
    current: z.boolean(),
    purpose: z.string(),
    prompt: z.string().openapi({ description: 'The prompt template' }),
    models: z.array(z.string()).openapi({ description: 'Primary model first, then fallbacks' }),
    settings: Json,
    limits: Json,
    tools: z.array(
      z.object({
        name: z.string(),
        description: z.string(),
        inputSchema: Json,
        outputSchema: Json.nullable(),
        effect: z.string(),
        maxAttempts: z.number().int().nullable(),
        approval: Json.nullable(),
      }),
    ),
    outputSchema: Json.nullable(),
    inputSchema: Json.nullable(),
    prefetch: z.array(z.string()),
    onNewRelease: z.string(),
    humanTools: z.array(z.unknown()),
    code: z.record(z.string(), z.string()),
    twelve: z.string(),
    threadsByStatus: ThreadCounts,
    threads: z.number().int(),
    manifest: Json.openapi({ description: 'Exactly what the release id hashes' }),
  })
  .openapi('Release');

const ReleaseHeader = z.object({ id: z.string(), agent: z.string(), createdAt: z.string().nullable(), ordinal: z.number().int().nullable(), current: z.boolean() });
const ReleaseChange = z
  .object({ kind: z.string(), path: z.string(), detail: z.string(), tool: z.string().optional(), before: z.unknown().optional(), after: z.unknown().optional() })
  .openapi('ReleaseChange');

export const ReleaseDiff = z
  .object({
    agent: z.string(),
    from: ReleaseHeader,
    to: ReleaseHeader,
    same: z.boolean(),
    prompt: z
      .object({
        added: z.number().int(),
        removed: z.number().int(),
        unified: z.string().openapi({ description: 'The prompt templates as a unified line diff' }),
        hunks: z.array(z.object({ oldStart: z.number().int(), oldLines: z.number().int(), newStart: z.number().int(), newLines: z.number().int(), lines: z.array(z.string()) })),
      })
      .nullable(),
    changes: z.array(ReleaseChange),
    groups: z.array(z.object({ group: z.string(), title: z.string(), changes: z.array(ReleaseChange) })),
  })
  .openapi('ReleaseDiff');

export type ThreadJson = z.infer<typeof Thread>;
export type FallbackJson = z.infer<typeof Fallback>;
export type ForkOfJson = z.infer<typeof ForkOf>;
export type ThreadDetailJson = z.infer<typeof ThreadDetail>;
export type EventJson = z.infer<typeof Event>;
export type PendingJson = z.infer<typeof Pending>;
export type AgentJson = z.infer<typeof AgentManifest>;
export type ReleaseSummaryJson = z.infer<typeof ReleaseSummary>;
export type ReleaseJson = z.infer<typeof Release>;
export type ReleaseDiffJson = z.infer<typeof ReleaseDiff>;
