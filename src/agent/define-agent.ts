/**
 * defineAgent: one agent, one job, declared in one file. The definition is data plus a
 * few pure functions; the runtime turns it into a release (see release.ts) with config
 * from the environment applied.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { TwelveError } from '../errors.js';
import { assertPinned, parseModelId } from '../model/model-id.js';
import { parseDeciders, type DeciderSpec } from './deciders.js';
import { checkFallbackOptions } from './fallback-options.js';
import type { Tool } from './define-tool.js';
import { isMcpToolSet, type McpToolSet } from '../mcp/tool-set.js';
import type { ContextMessage } from '../thread/render-context.js';
import type { ThreadEvent } from '../thread/events.js';

export interface AgentLimits {
  /**
   * Model calls per turn (default 20): per thread for a one-shot thread, per user message in a
   * conversation. Reaching it records budget_exceeded and waits for a person, like the others.
   */
  maxSteps?: number;
  /** Input + output tokens per thread (a conversation's turns all count). */
  maxTokens?: number;
  /**
   * A conversation's context window, in (approximate) tokens of the messages sent: older turns are
   * left out of the request (they stay in the log) so it fits. See "Conversations" in the README.
   */
  maxContextTokens?: number;
  /** The most recent turns of a conversation the model is shown (the first input is always shown). */
  maxTurns?: number;
  /** Spend per thread in USD (needs a known price for the model; a conversation's turns all count). */
  maxCostUsd?: number;
  /** Consecutive errors (bad tool calls, tool failures, invalid answers, failed model calls) before a human is asked. Default 3. */
  maxConsecutiveErrors?: number;
}

export interface ModelSettings {
  temperature?: number;
  maxOutputTokens?: number;
  /** Per-call timeout. Default 60 000 ms. */
  timeoutMs?: number;
  /** Retries of one model on 429 / 5xx / timeouts before the next fallback. Default 2. */
  maxRetries?: number;
}

export interface PrefetchStep<I> {
  tool: string;
  /** Deterministic arguments from the thread input. (Method syntax: lets typed agents sit in an Agent[].) */
  args(input: I): unknown;
}

export interface RenderContextOptions {
  agent: Agent;
  events: readonly ThreadEvent[];
  /** What the default renderer produces; return it, or a rewritten copy. */
  defaultMessages: ContextMessage[];
}

/**
 * A callback type checked bivariantly (like a method), so an agent with a typed output still
 * fits in an `Agent[]`: the runtime only ever passes the agent's own, validated output.
 */
type Callback<A extends unknown[], R> = { bivarianceHack(...args: A): R }['bivarianceHack'];
type OutputOf<O> = O extends z.ZodType ? z.output<O> : string;

/** What a review policy receives besides the output. */
export interface ReviewContext<I = unknown> {
  threadId: string;
  input: I;
  /** The output's confidence, when the agent declares one (`confidence`). */
  confidence: number | undefined;
  /** Who produced the output: the model, or the agent's non-LLM fallback. */
  source: 'model' | 'fallback';
}

/** A review policy's verdict: a boolean, or whether and why. */
export type ReviewVerdict = boolean | { required: boolean; reason?: string };

/** What the non-LLM fallback receives besides the thread input. */
export interface FallbackContext {
  threadId: string;
  agent: string;
  /** Why the models could not answer: every model of the chain failed, the configuration blocked them, or a budget ran out. */
  reason: 'models_failed' | 'blocked' | 'budget';
  /** The failure, one line. */
  detail: string;
}

export interface AgentOptions<I extends z.ZodType = z.ZodType<string>, O extends z.ZodType | undefined = undefined> {
  /** Lower-case, digits and dashes: `refunds`, `email-classifier`. */
  name: string;
  /** One sentence: the single job this agent does. */
  purpose: string;
  /** Pinned `provider:model-id`, e.g. `openai:gpt-4o-2024-08-06`. */
  model: string;
  /** Tried in order when the primary model keeps failing. */
  fallbackModels?: string[];
  allowFloatingModel?: boolean;
  /**
   * Stream model calls (the provider's doStream): subscribers of the thread (SSE `?deltas=1`,
   * the UI message stream, the console) see the text token by token. The stored events are
   * the same either way; not part of the release. Default false.
   */
  stream?: boolean;
  /**
   * Provider prompt caching. "auto" (default): Anthropic requests mark cache breakpoints (after the
   * tools and system prompt, and at the ends of the previous and the current request), so a
   * thread's later steps read its earlier context from the cache at a tenth of the input price;
   * OpenAI requests carry a stable cache key (the thread's), and OpenAI-compatible servers get
   * the same byte-stable prefix they cache on their own. "off": neither. Not part of the
   * release; TWELVE_AGENT_<NAME>_CACHE overrides it. Keep the prompt template free of what
   * changes per step (README "Prompt caching").
   */
  cache?: 'auto' | 'off';
  /**
   * The system prompt template: a file (URL or absolute path) or `{ text }`. Placeholders:
   * `{{input}}`, `{{input.field}}`, `{{purpose}}`, `{{agent}}`, `{{tools}}`.
   */
  prompt: URL | string | { text: string };
  /** Tools, and the tools of MCP servers: mcpTools('files', {...}) (src/mcp/tool-set.ts). */
  tools?: Array<Tool | McpToolSet>;
  /** Schema of the thread input. Default: a string. */
  input?: I;
  /** Schema of the final answer; the model must answer with JSON that matches it. */
  output?: O;
  limits?: AgentLimits;
  modelSettings?: ModelSettings;
  prefetch?: PrefetchStep<z.output<I>>[];
  /** Own your context window: rewrite what the model sees. Must stay deterministic. */
  renderContext?: (options: RenderContextOptions) => ContextMessage[];
  /** Directory of recorded model responses for record/replay (URL or absolute path). */
  recordings?: URL | string;
  /**
   * What a thread in flight does when a worker on another release picks it up. Default: go on
   * when the move is compatible (open calls' tools and schemas unchanged, approvals not looser,
   * output schema still accepts), wait for a person when not. "continue": always go on.
   * "hold": always wait for a person (`twelve resume` moves it on, `twelve cancel` ends it).
   */
  onNewRelease?: 'continue' | 'hold';
  /**
   * Scrub events with the user's redaction patterns (TWELVE_REDACT_PATTERNS: emails, card
   * numbers...) before they are stored, not only when shown: the log then never holds them (and
   * the model sees the redacted text). Default false: the log keeps what the agent really saw.
   * Part of the release.
   */
  redactAtWrite?: boolean;
  /**
   * Quality control of the final answer: "always", "never" (default), or a pure predicate on the
   * output. A final answer that needs review does not complete the thread: it waits, durably, for
   * a reviewer to approve it, edit it, send it back with feedback, or reject it (`twelve review`).
   * @example review: (output, { confidence }) => output.decision === 'refunded' && (confidence ?? 0) < 0.8
   */
  review?: 'always' | 'never' | Callback<[output: OutputOf<O>, ctx: ReviewContext<z.output<I>>], ReviewVerdict>;
  /** Who may review: roles, or `{ roles, people }` (same rules as a tool's approvers). Default: anyone. */
  reviewers?: DeciderSpec;
  /** How long a review may wait before `onReviewTimeout` applies. Default: no deadline. */
  reviewTimeoutMs?: number;
  /** What a review deadline does: "fail" (default: an unreviewed answer never ships) or "approve". */
  onReviewTimeout?: 'approve' | 'fail';
  /**
   * Where the output carries its confidence (0..1): the name of a top-level numeric field of the
   * output (e.g. "confidence"), or a function of the output. Recorded on thread_completed, shown
   * everywhere, exported as a histogram in /metrics, and given to review policies.
   */
  confidence?: string | Callback<[output: OutputOf<O>], number | undefined>;
  /**
   * The non-LLM fallback: answers when no model can (every model of the chain failed, or the
   * provider configuration blocks them all; with `fallbackOn` including "budget", also when a
   * budget is exhausted). Its output is validated against the output schema and completes the
   * thread, recorded as fallback_used. Must be deterministic and fast: keyword rules, a lookup.
   */
  fallback?: Callback<[input: z.output<I>, ctx: FallbackContext], OutputOf<O> | Promise<OutputOf<O>>>;
  /** When the fallback answers. Default ["models_failed", "blocked"]. */
  fallbackOn?: Array<'models_failed' | 'blocked' | 'budget'>;
}

export interface Agent<I extends z.ZodType = z.ZodType, O extends z.ZodType | undefined = z.ZodType | undefined> {
  readonly kind: 'twelve.agent';
  readonly name: string;
  readonly purpose: string;
  readonly options: AgentOptions<I, O>;
  /** The raw prompt template text. */
  readonly promptTemplate: string;
  readonly promptSource: string;
  readonly tools: ReadonlyMap<string, Tool>;
  readonly inputSchema: z.ZodType;
  readonly outputSchema: z.ZodType | undefined;
  readonly recordingsDir: string | undefined;
  /** The project config's toolBindings (tool -> implementation), attached when the config is loaded; checked by loadConfig. */
  readonly configToolBindings?: Readonly<Record<string, string>>;
  /** MCP tool sets not yet connected (connectMcpTools replaces them with real tools). */
  readonly mcpToolSets?: readonly McpToolSet[];
}

const agentName = /^[a-z][a-z0-9-]{0,62}$/;

/**
 * @example
 * export default defineAgent({
 *   name: 'email-classifier',
 *   purpose: 'Classify one inbound email into a fixed label set',
 *   model: 'openai:gpt-4o-mini-2024-07-18',
 *   prompt: new URL('./prompt.md', import.meta.url),
 *   output: z.object({ label: z.enum(['billing', 'support']), confidence: z.number() }),
 * });
 */
export function defineAgent<I extends z.ZodType = z.ZodType<string>, O extends z.ZodType | undefined = undefined>(
  options: AgentOptions<I, O>,
): Agent<I, O> {
  const where = `defineAgent ${options?.name ?? '(unnamed)'}`;
  const problems: string[] = [];
  if (!agentName.test(options.name ?? '')) problems.push(`name "${options.name}" must be lower-case letters, digits and dashes`);
  if (!options.purpose?.trim()) problems.push('purpose is required: one sentence saying the single job of this agent');
  for (const [index, id] of [options.model, ...(options.fallbackModels ?? [])].entries()) {
    const label = index === 0 ? 'model' : `fallbackModels[${index - 1}]`;
    try {
      const parsed = parseModelId(String(id), label);
      if (!options.allowFloatingModel) assertPinned(parsed, label);
    } catch (error) {
      problems.push((error as Error).message);
    }
  }
  const tools = new Map<string, Tool>();
  const mcpToolSets: McpToolSet[] = [];
  for (const tool of options.tools ?? []) {
    if (isMcpToolSet(tool)) mcpToolSets.push(tool);
    else if (tool?.kind !== 'twelve.tool') problems.push('tools must be created with defineTool or mcpTools');
    else if (tools.has(tool.name)) problems.push(`two tools are named "${tool.name}"`);
    else tools.set(tool.name, tool);
  }
  for (const [index, step] of (options.prefetch ?? []).entries()) {
    if (!tools.has(step.tool) && mcpToolSets.length === 0) problems.push(`prefetch[${index}] names tool "${step.tool}", which is not in tools`);
  }
  for (const [key, value] of Object.entries(options.limits ?? {})) {
    if (value !== undefined && !(typeof value === 'number' && value > 0)) problems.push(`limits.${key} must be a positive number`);
  }
  if (options.redactAtWrite !== undefined && typeof options.redactAtWrite !== 'boolean') problems.push(`redactAtWrite must be true or false (got ${JSON.stringify(options.redactAtWrite)})`);
  if (options.onNewRelease !== undefined && options.onNewRelease !== 'continue' && options.onNewRelease !== 'hold') {
    problems.push(`onNewRelease must be "continue" or "hold" (got ${JSON.stringify(options.onNewRelease)})`);
  }
  if (options.cache !== undefined && options.cache !== 'auto' && options.cache !== 'off') {
    problems.push(`cache must be "auto" or "off" (got ${JSON.stringify(options.cache)})`);
  }
  checkFallbackOptions(options, problems);
  checkReview(options, problems);
  const { text: promptTemplate, source: promptSource } = readPrompt(options.prompt, problems);
  if (problems.length > 0) {
    throw new TwelveError('agent_invalid', `${where}: ${problems.join('; ')}`, { details: { problems } });
  }
  return {
    kind: 'twelve.agent',
    name: options.name,
    purpose: options.purpose,
    options,
    promptTemplate,
    promptSource,
    tools,
    inputSchema: options.input ?? z.string().min(1, 'input must not be empty').refine((text) => text.trim() !== '', 'input must not be only whitespace'),
    outputSchema: options.output,
    recordingsDir: options.recordings === undefined ? undefined : toPath(options.recordings),
    ...(mcpToolSets.length > 0 ? { mcpToolSets } : {}),
  };
}

/** The output review options (review, reviewers, reviewTimeoutMs, onReviewTimeout), each problem in words. */
function checkReview(options: AgentOptions<any, any>, problems: string[]): void {
  const { review, reviewers, reviewTimeoutMs, onReviewTimeout } = options;
  if (review !== undefined && review !== 'always' && review !== 'never' && typeof review !== 'function') {
    problems.push(`review must be "always", "never" or a function (output, ctx) => boolean | { required, reason } (got ${JSON.stringify(review)})`);
  }
  try {
    parseDeciders(reviewers, 'reviewers');
  } catch (error) {
    problems.push((error as Error).message);
  }
  if (reviewTimeoutMs !== undefined && !(typeof reviewTimeoutMs === 'number' && Number.isFinite(reviewTimeoutMs) && reviewTimeoutMs > 0)) {
    problems.push(`reviewTimeoutMs must be a positive number of milliseconds (got ${JSON.stringify(reviewTimeoutMs)})`);
  }
  if (onReviewTimeout !== undefined && onReviewTimeout !== 'approve' && onReviewTimeout !== 'fail') {
    problems.push(`onReviewTimeout must be "approve" or "fail" (got ${JSON.stringify(onReviewTimeout)})`);
  }
}

function toPath(location: URL | string): string {
  return location instanceof URL ? fileURLToPath(location) : location;
}

function readPrompt(prompt: AgentOptions['prompt'], problems: string[]): { text: string; source: string } {
  if (prompt && typeof prompt === 'object' && !(prompt instanceof URL)) {
    if (typeof prompt.text !== 'string' || !prompt.text.trim()) problems.push('prompt.text must be a non-empty string');
    return { text: prompt.text ?? '', source: 'inline' };
  }
  if (!prompt) {
    problems.push('prompt is required: a template file (new URL("./prompt.md", import.meta.url)) or { text }');
    return { text: '', source: 'missing' };
  }
  const path = toPath(prompt);
  try {
    return { text: readFileSync(path, 'utf8'), source: path };
  } catch (error) {
    problems.push(`cannot read prompt template ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    return { text: '', source: path };
  }
}

export function isAgent(value: unknown): value is Agent {
  return typeof value === 'object' && value !== null && (value as Agent).kind === 'twelve.agent';
}
