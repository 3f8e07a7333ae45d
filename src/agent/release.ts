/**
 * A release is the immutable, content-addressed form of an agent as it runs: prompt
 * template, tool schemas, output schema, model pins, settings and limits, with the
 * environment's overrides applied. Its id is a hash of exactly that, and every event
 * records it, so any step traces back to the definition that decided it.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { Agent } from './define-agent.js';
import { parseDeciders } from './deciders.js';
import { childOf } from './agent-tool.js';
import { fallbackOnOf } from './fallback-options.js';
import { stableStringify } from '../util/stable-json.js';
import type { ToolBinding } from './tool-binding.js';

export interface ToolSpec {
  type: 'function';
  name: string;
  description: string;
  inputSchema: Record<string, unknown>;
}

export interface AgentOverrides {
  model?: string;
  fallbackModels?: string[];
  temperature?: number;
  maxOutputTokens?: number;
  timeoutMs?: number;
  maxRetries?: number;
  maxSteps?: number;
  maxTokens?: number;
  maxCostUsd?: number;
  maxConsecutiveErrors?: number;
  /** Per-agent spend cap per UTC day, shared by every process using the store. */
  dailyCostUsd?: number;
  /** Most threads of this agent running at once across the fleet (operational: not part of the release id). */
  maxConcurrency?: number;
  /** Operators tightening tool approval from the environment: tool name -> "always". */
  approvals?: Record<string, 'always'>;
  /** The highest cost limit a person may give a thread, and the variable that set it (operational: not part of the release id). */
  budgetRaiseCap?: BudgetRaiseCap;
  /** Tools bound to an implementation other than live (TWELVE_TOOL_<NAME>, config toolBindings): tool name -> binding. */
  toolBindings?: Record<string, ToolBinding>;
  /** Provider prompt caching, TWELVE_AGENT_<NAME>_CACHE (operational: not part of the release id). */
  cache?: 'auto' | 'off';
}

export interface BudgetRaiseCap {
  maxCostUsd: number;
  /** TWELVE_MAX_BUDGET_RAISE_USD or TWELVE_AGENT_<NAME>_MAX_BUDGET_RAISE_USD. */
  variable: string;
}

export interface ResolvedLimits {
  maxSteps: number;
  maxTokens: number | undefined;
  maxCostUsd: number | undefined;
  maxConsecutiveErrors: number;
  /** A tool run interrupted this many times (worker died each time) is recorded as failed. */
  maxToolAttempts: number;
  dailyCostUsd: number | undefined;
  /** A conversation's context window (thread/context-window.ts); undefined: no bound. */
  maxContextTokens?: number | undefined;
  maxTurns?: number | undefined;
}

/** A tool's approval policy as it applies in this release (code, tightened by the environment). */
export interface ResolvedApproval {
  policy: 'always' | 'never' | 'predicate';
  /** "code" or the environment variable that forced it. */
  source: string;
  /** Roles allowed to decide; with `people`, empty means anyone. */
  approvers: string[];
  /** People (by name) allowed to decide. */
  people: string[];
  timeoutMs: number | undefined;
  onTimeout: 'approve' | 'reject';
}

/** The agent's output review as it applies in this release (see src/runtime/review.ts). */
export interface ResolvedReview {
  policy: 'always' | 'never' | 'predicate';
  /** Roles allowed to review; with `people`, empty means anyone. */
  reviewers: string[];
  /** People (by name) allowed to review. */
  people: string[];
  timeoutMs: number | undefined;
  onTimeout: 'approve' | 'fail';
}

export interface ResolvedModelSettings {
  temperature: number | undefined;
  maxOutputTokens: number | undefined;
  timeoutMs: number;
  maxRetries: number;
}

export interface AgentRelease {
  agent: Agent;
  releaseId: string;
  /** Primary model first, then fallbacks. */
  models: string[];
  settings: ResolvedModelSettings;
  limits: ResolvedLimits;
  toolSpecs: ToolSpec[];
  outputJsonSchema: Record<string, unknown> | undefined;
  approvals: ReadonlyMap<string, ResolvedApproval>;
  review: ResolvedReview;
  /** Fleet-wide cap on this agent's running threads, from the environment. */
  maxConcurrency: number | undefined;
  /** The highest cost limit a person may raise a thread to, from the environment. */
  budgetRaiseCap: BudgetRaiseCap | undefined;
  /** Tools bound to an implementation other than live, tool name -> binding (absent: live). */
  toolBindings: Readonly<Record<string, ToolBinding>>;
  /**
   * Provider prompt caching (model/prompt-cache.ts): "auto" marks Anthropic cache breakpoints and
   * gives OpenAI a stable cache key; "off" sends neither. Operational, like `stream`: caching
   * changes what a call costs, not what the model is asked, so it is not part of the release id.
   */
  cache: 'auto' | 'off';
  /** Exactly what the release id hashes; stored with the release for audit and diffing. */
  manifest: Record<string, unknown>;
}

export const defaultLimits = { maxSteps: 20, maxConsecutiveErrors: 3, maxToolAttempts: 3 } as const;
export const defaultModelSettings = { timeoutMs: 60_000, maxRetries: 2 } as const;

/** The models that may answer, primary first, with the environment's overrides applied. */
export function modelChain(agent: Agent, overrides: AgentOverrides = {}): string[] {
  return [overrides.model ?? agent.options.model, ...(overrides.fallbackModels ?? agent.options.fallbackModels ?? [])];
}

export function createRelease(agent: Agent, overrides: AgentOverrides = {}, twelveVersion = '0'): AgentRelease {
  const options = agent.options;
  const models = modelChain(agent, overrides);
  const settings: ResolvedModelSettings = {
    temperature: overrides.temperature ?? options.modelSettings?.temperature,
    maxOutputTokens: overrides.maxOutputTokens ?? options.modelSettings?.maxOutputTokens,
    timeoutMs: overrides.timeoutMs ?? options.modelSettings?.timeoutMs ?? defaultModelSettings.timeoutMs,
    maxRetries: overrides.maxRetries ?? options.modelSettings?.maxRetries ?? defaultModelSettings.maxRetries,
  };
  const limits: ResolvedLimits = {
    maxSteps: overrides.maxSteps ?? options.limits?.maxSteps ?? defaultLimits.maxSteps,
    maxTokens: overrides.maxTokens ?? options.limits?.maxTokens,
    maxCostUsd: overrides.maxCostUsd ?? options.limits?.maxCostUsd,
    maxConsecutiveErrors: overrides.maxConsecutiveErrors ?? options.limits?.maxConsecutiveErrors ?? defaultLimits.maxConsecutiveErrors,
    maxToolAttempts: defaultLimits.maxToolAttempts,
    dailyCostUsd: overrides.dailyCostUsd,
    // Absent unless set, so agents without them keep their release ids.
    ...(options.limits?.maxContextTokens !== undefined ? { maxContextTokens: options.limits.maxContextTokens } : {}),
    ...(options.limits?.maxTurns !== undefined ? { maxTurns: options.limits.maxTurns } : {}),
  };
  const approvals = new Map<string, ResolvedApproval>();
  for (const tool of agent.tools.values()) {
    const forced = overrides.approvals?.[tool.name];
    const coded = tool.approval ?? 'never';
    const deciders = parseDeciders(tool.approvers, `tool ${tool.name}: approvers`);
    approvals.set(tool.name, {
      policy: forced ?? (typeof coded === 'function' ? 'predicate' : coded),
      source: forced ? 'environment' : 'code',
      approvers: deciders.roles,
      people: deciders.people,
      timeoutMs: tool.approvalTimeoutMs,
      onTimeout: tool.onApprovalTimeout ?? 'reject',
    });
  }
  const review = resolveReview(agent);
  const toolBindings = Object.fromEntries(Object.entries(overrides.toolBindings ?? {}).filter(([tool, b]) => agent.tools.has(tool) && b.implementation !== 'live'));
  const toolSpecs: ToolSpec[] = [...agent.tools.values()].map((tool) => ({
    type: 'function',
    name: tool.name,
    description: tool.description,
    inputSchema: tool.inputJsonSchema,
  }));
  const outputJsonSchema = agent.outputSchema ? jsonSchemaOf(agent.outputSchema) : undefined;
  // How each tool behaves beyond what the model sees: its effect, its retry bound, its result's schema.
  const toolBehaviour = Object.fromEntries(
    [...agent.tools.values()].map((tool) => [
      tool.name,
      {
        effect: tool.effect ?? 'external',
        maxAttempts: tool.maxAttempts ?? defaultLimits.maxToolAttempts,
        output: tool.output ? jsonSchemaOf(tool.output) : null,
        // An agentTool: the agent its calls launch as a child thread (absent for other tools, whose release ids stay as they were).
        ...(childOf(tool) ? { childAgent: childOf(tool)!.agent.name } : {}),
      },
    ]),
  );
  const manifest = {
    agent: agent.name,
    purpose: agent.purpose,
    prompt: agent.promptTemplate,
    models,
    settings,
    limits,
    tools: toolSpecs,
    output: outputJsonSchema ?? null,
    input: jsonSchemaOf(agent.inputSchema),
    prefetch: (options.prefetch ?? []).map((step) => step.tool),
    approvals: Object.fromEntries(approvals),
    toolBehaviour,
    onNewRelease: options.onNewRelease ?? 'auto',
    // Absent when false (the default), so agents that do not opt in keep their release ids.
    ...(options.redactAtWrite ? { redactAtWrite: true } : {}),
    // Absent for "never" (the default), so agents without review kept their release ids when review came.
    ...(review.policy === 'never' ? {} : { review: { ...review, timeoutMs: review.timeoutMs ?? null } }),
    code: codeHashes(agent),
    humanTools: [...agent.tools.values()].filter((tool) => tool.human).map((tool) => ({ name: tool.name, ...tool.human })),
    ...fallbackManifest(agent),
    // Absent when every tool runs live (the default), so unbound agents keep their release ids.
    ...(Object.keys(toolBindings).length > 0 ? { toolBindings: Object.fromEntries(Object.entries(toolBindings).map(([tool, b]) => [tool, b.implementation])) } : {}),
    twelve: twelveVersion,
  };
  const releaseId = 'rel_' + createHash('sha256').update(stableStringify(manifest)).digest('hex').slice(0, 16);
  const cache = overrides.cache ?? options.cache ?? 'auto';
  return { agent, releaseId, models, settings, limits, toolSpecs, outputJsonSchema, approvals, review, maxConcurrency: overrides.maxConcurrency, budgetRaiseCap: overrides.budgetRaiseCap, toolBindings, cache, manifest };
}

/**
 * The functions that shape behaviour without being data (a renderContext, prefetch arguments,
 * approval predicates, a review predicate, the non-LLM fallback, a confidence function), by a hash of their source: editing one makes a new release, so
 * `twelve build --check` and the release id see it. (Source text, not behaviour: a change in
 * what they import is not seen.)
 */
function codeHashes(agent: Agent): Record<string, string> {
  const hash = (fn: unknown) => createHash('sha256').update(String(fn)).digest('hex').slice(0, 16);
  const code: Record<string, string> = {};
  if (agent.options.renderContext) code.renderContext = hash(agent.options.renderContext);
  for (const [index, step] of (agent.options.prefetch ?? []).entries()) code[`prefetch[${index}]`] = hash(step.args);
  for (const tool of agent.tools.values()) if (typeof tool.approval === 'function') code[`approval.${tool.name}`] = hash(tool.approval);
  if (typeof agent.options.fallback === 'function') code.fallback = hash(agent.options.fallback);
  if (typeof agent.options.confidence === 'function') code.confidence = hash(agent.options.confidence);
  if (typeof agent.options.review === 'function') code.review = hash(agent.options.review);
  return code;
}

/**
 * When the non-LLM fallback answers, and where the confidence is read (its code, when a
 * function, is hashed in `code`). Absent when the agent declares neither, so the release
 * ids of agents that use neither did not change when these options came.
 */
function fallbackManifest(agent: Agent): { fallback?: { on: string[] }; confidence?: ConfidenceSpec } {
  const on = fallbackOnOf(agent.options);
  const confidence = agent.options.confidence;
  return {
    ...(on.length > 0 ? { fallback: { on: [...on] } } : {}),
    ...(confidence === undefined ? {} : { confidence: typeof confidence === 'string' ? { field: confidence } : { function: true } }),
  };
}

/** Where a release reads its output's confidence: a top-level field, or a function (hashed in `code.confidence`). */
export type ConfidenceSpec = { field: string } | { function: true };


function resolveReview(agent: Agent): ResolvedReview {
  const { review, reviewers, reviewTimeoutMs, onReviewTimeout } = agent.options;
  const deciders = parseDeciders(reviewers, `agent ${agent.name}: reviewers`);
  return {
    policy: typeof review === 'function' ? 'predicate' : (review ?? 'never'),
    reviewers: deciders.roles,
    people: deciders.people,
    timeoutMs: reviewTimeoutMs,
    onTimeout: onReviewTimeout ?? 'fail',
  };
}

function jsonSchemaOf(schema: z.ZodType): Record<string, unknown> {
  try {
    const json = z.toJSONSchema(schema, { io: 'input' }) as Record<string, unknown>;
    delete json.$schema;
    return json;
  } catch {
    return { description: 'not expressible as JSON Schema' };
  }
}
