/**
 * Configuration from the environment, validated once at start. Every problem is
 * collected and reported in one error, naming the variable and what was wrong.
 */
import { parseRedactPatterns, type RedactPattern } from './redact-patterns.js';
import { z } from 'zod';
import { TwelveError } from '../errors.js';
import type { AgentOverrides } from '../agent/release.js';
import type { ModelPrice } from '../model/prices.js';
import { assertPinned, parseModelId } from '../model/model-id.js';
import type { Agent } from '../agent/define-agent.js';
import { costLimitProblems } from './cost-limits.js';
import { parseTenantConfig, type TenantConfig } from '../costs/tenants.js';
import { auditConfigOf, type AuditConfig } from '../audit/config.js';
import { implementationNames } from '../agent/tool-binding.js';

export type ModelMode = 'live' | 'record' | 'replay';

export interface TwelveConfig {
  databaseUrl: string;
  /** text (default): warnings and errors as one line each on stderr; json: pino lines, every event too; off. */
  log: 'text' | 'json' | 'off';
  /** Default warn for text logs, info for JSON ones. */
  logLevel: string;
  modelMode: ModelMode;
  recordingsDir: string | undefined;
  prices: Record<string, ModelPrice>;
  leaseMs: number;
  worker: { concurrency: number; pollMs: number; shutdownGraceMs: number };
  /** Webhook posted when a thread starts waiting for a person. */
  notify: { url: string; secret: string } | undefined;
  /** Known people and their roles (TWELVE_HUMANS="alice=finance,approver;bob=support"). */
  humans: Map<string, string[]>;
  providers: {
    openai: {
      apiKey: string | undefined;
      baseURL: string | undefined;
      /** Send OpenAI's prompt_cache_key (TWELVE_OPENAI_PROMPT_CACHE_KEY; auto: only to OpenAI's own API). */
      promptCacheKey: boolean;
    };
    anthropic: { apiKey: string | undefined; baseURL: string | undefined };
    openaiCompatible: { apiKey: string | undefined; baseURL: string | undefined };
  };
  /** Per-agent overrides, keyed by agent name. */
  agents: Record<string, AgentOverrides>;
  /**
   * serve, worker and run refuse to start when the code differs from twelve.lock.json
   * (TWELVE_REQUIRE_LOCK=1, or NODE_ENV=production unless TWELVE_REQUIRE_LOCK=0).
   */
  requireLock: boolean;
  /** Tenants (TWELVE_TENANT_KEY) and their daily caps (TWELVE_TENANT_DAILY_COST_USD, TWELVE_TENANT_CAPS). */
  tenants: TenantConfig;
  /** TWELVE_REDACT_PATTERNS: user redaction patterns for logs, traces, exports and views (and redactAtWrite agents' events). */
  redactPatterns: RedactPattern[];
  /** Signing and checking the audit chain's heads (TWELVE_AUDIT_*: audit/config.ts). */
  audit: AuditConfig;
  /** Tool results larger than this are stored once as a blob; the model sees a preview and a note (TWELVE_MAX_PAYLOAD_BYTES). */
  maxPayloadBytes: number;
}

const positiveInt = z.coerce.number().int().positive();
const url = z.url();
const usd = z.coerce.number({ error: 'must be a positive number of US dollars' }).positive('must be a positive number of US dollars');
const yesNo = z
  .enum(['1', '0', 'true', 'false'], { error: 'must be 1, 0, true or false' })
  .transform((value) => value === '1' || value === 'true');
const price = z
  .object({
    input: z.number().nonnegative(),
    output: z.number().nonnegative(),
    cachedInput: z.number().nonnegative().optional(),
    cacheWrite: z.number().nonnegative().optional(),
  })
  .strict();

const base = z.object({
  TWELVE_DATABASE_URL: z.string().min(1).default('sqlite:.twelve/twelve.db'),
  TWELVE_LOG: z.enum(['text', 'json', 'off']).default('text'),
  TWELVE_LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal']).optional(),
  TWELVE_MODEL_MODE: z.enum(['live', 'record', 'replay']).default('live'),
  TWELVE_RECORDINGS_DIR: z.string().min(1).optional(),
  TWELVE_MODEL_PRICES: z
    .string()
    .optional()
    .transform((text, ctx) => {
      if (!text) return {};
      const shape =
        'must be JSON like {"openai:gpt-4o-2024-08-06":{"input":2.5,"output":10,"cachedInput":1.25}}: per model, USD per million tokens of input, output and optionally cachedInput (read from the prompt cache) and cacheWrite (written to it)';
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: `${shape} (${firstLine(error)})` });
        return z.NEVER;
      }
      const parsed = z.record(z.string(), price).safeParse(json);
      // Each problem where it is: the model and the field, so a typo in one entry of many is found.
      const problems = parsed.success ? cacheRateProblems(parsed.data) : parsed.error.issues.map(priceIssue);
      if (!parsed.success || problems.length > 0) {
        ctx.addIssue({ code: 'custom', message: `${shape}; ${problems.join('; ')}` });
        return z.NEVER;
      }
      return parsed.data;
    }),
  TWELVE_LEASE_MS: positiveInt.default(30_000),
  TWELVE_WORKER_CONCURRENCY: positiveInt.default(4),
  TWELVE_POLL_MS: positiveInt.default(1_000),
  TWELVE_SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).default(30_000),
  OPENAI_API_KEY: z.string().optional(),
  OPENAI_BASE_URL: url.optional(),
  TWELVE_OPENAI_PROMPT_CACHE_KEY: z.enum(['auto', 'on', 'off'], { error: 'must be auto, on or off' }).default('auto'),
  ANTHROPIC_API_KEY: z.string().optional(),
  ANTHROPIC_BASE_URL: url.optional(),
  TWELVE_OPENAI_COMPATIBLE_BASE_URL: url.optional(),
  TWELVE_OPENAI_COMPATIBLE_API_KEY: z.string().optional(),
  TWELVE_MAX_CONSECUTIVE_ERRORS: positiveInt.optional(),
  TWELVE_MAX_BUDGET_RAISE_USD: usd.optional(),
  TWELVE_NOTIFY_URL: url.optional(),
  TWELVE_NOTIFY_SECRET: z.string().min(16, 'must be at least 16 characters').optional(),
  TWELVE_REQUIRE_LOCK: yesNo.optional(),
  // Redaction (issue 11): names (email, card, phone) and /regex/ entries, comma-separated.
  TWELVE_REDACT_PATTERNS: z
    .string()
    .optional()
    .transform((text, ctx) => {
      try {
        return parseRedactPatterns(text);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: (error as Error).message });
        return z.NEVER;
      }
    }),
  // What the model saw (issue 11, section 2).
  TWELVE_MAX_PAYLOAD_BYTES: z.coerce.number().int().min(1024, 'must be at least 1024 bytes').default(256 * 1024),
  // Traces (src/telemetry/): put message content, redacted, on model and tool spans (read there; checked here).
  TWELVE_TRACE_CONTENT: yesNo.optional(),
  NODE_ENV: z.string().optional(),
  TWELVE_HUMANS: z
    .string()
    .optional()
    .transform((text, ctx) => {
      const humans = new Map<string, string[]>();
      for (const entry of (text ?? '').split(';').map((e) => e.trim()).filter(Boolean)) {
        const match = /^([^=,;\s]+)\s*=\s*([^=;]*)$/.exec(entry);
        if (!match) {
          ctx.addIssue({ code: 'custom', message: `"${entry}" is not name=role,role (example: alice=finance,approver;bob=support)` });
          return z.NEVER;
        }
        humans.set(match[1]!, match[2]!.split(',').map((r) => r.trim()).filter(Boolean));
      }
      return humans;
    }),
});

/** The variables the schema above validates (config/settings.ts documents each, for .env.example). */
export const schemaVariables: readonly string[] = Object.keys(base.shape);

const number = z.coerce.number().refine(Number.isFinite, 'must be a number');
/** What TWELVE_AGENT_<NAME>_<KEY> sets. */
const agentKeys: Record<string, [keyof AgentOverrides, z.ZodType]> = {
  MODEL: ['model', z.string().min(1)],
  FALLBACK_MODELS: ['fallbackModels', z.string().transform((s) => s.split(',').map((m) => m.trim()).filter(Boolean))],
  TEMPERATURE: ['temperature', number.pipe(z.number().min(0).max(2))],
  MAX_OUTPUT_TOKENS: ['maxOutputTokens', positiveInt],
  TIMEOUT_MS: ['timeoutMs', positiveInt],
  MAX_RETRIES: ['maxRetries', z.coerce.number().int().min(0).max(10)],
  MAX_STEPS: ['maxSteps', positiveInt],
  MAX_TOKENS: ['maxTokens', positiveInt],
  MAX_COST_USD: ['maxCostUsd', number.pipe(z.number().positive())],
  MAX_CONSECUTIVE_ERRORS: ['maxConsecutiveErrors', positiveInt],
  DAILY_COST_USD: ['dailyCostUsd', number.pipe(z.number().positive())],
  MAX_CONCURRENCY: ['maxConcurrency', positiveInt],
  MAX_BUDGET_RAISE_USD: ['budgetRaiseCap', usd],
  CACHE: ['cache', z.enum(['auto', 'off'], { error: 'must be auto or off' })],
};

/** Agent settings that only change how a release is operated, never the release itself (its id and lock). */
// CACHE too: prompt caching changes what a call costs, never what the model is asked (model/prompt-cache.ts).
const operationalAgentKeys: ReadonlySet<string> = new Set(['MAX_CONCURRENCY', 'MAX_BUDGET_RAISE_USD', 'CACHE']);
/** Global variables that change every agent's release manifest. */
const releaseShapingGlobals = ['TWELVE_MAX_CONSECUTIVE_ERRORS'] as const;

/**
 * The variables of `env` that shape `agent`'s release (TWELVE_AGENT_<NAME>_* but the operational
 * ones, and the global ones above), name -> value: what a lockfile records. No secrets among them.
 */
export function releaseVariables(env: NodeJS.ProcessEnv, agent: Agent): Record<string, string> {
  const prefix = agentEnvPrefix(agent.name);
  const found: Record<string, string> = {};
  for (const name of releaseShapingGlobals) if (env[name] !== undefined) found[name] = env[name]!;
  for (const tool of agent.tools.keys()) {
    const variable = toolBindingVariable(tool);
    if (env[variable] !== undefined && env[variable] !== 'live') found[variable] = env[variable]!;
  }
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined || !name.startsWith(prefix)) continue;
    const key = name.slice(prefix.length);
    const approval = key.startsWith('APPROVAL_') && [...agent.tools.keys()].some((tool) => `APPROVAL_${toolEnvName(tool)}` === key);
    if (approval || (Object.hasOwn(agentKeys, key) && !operationalAgentKeys.has(key))) found[name] = value;
  }
  return found;
}

/** `lookup_order` -> `TWELVE_TOOL_LOOKUP_ORDER`: the variable that binds a tool to one of its implementations. */
export function toolBindingVariable(tool: string): string {
  return `TWELVE_TOOL_${toolEnvName(tool)}`;
}

/**
 * The tool bindings in force per agent (TWELVE_TOOL_<NAME> over the config's toolBindings), each
 * problem in words: a binding for a tool no agent has, an implementation the tool does not have.
 * "live" (the default) is not recorded, so an unbound tool keeps its release.
 */
function toolBindings(env: NodeJS.ProcessEnv, agents: readonly Agent[], overrides: Record<string, AgentOverrides>, problems: string[]): void {
  const byName = new Map<string, Array<{ agent: Agent; tool: Agent['tools'] extends ReadonlyMap<string, infer T> ? T : never }>>();
  for (const agent of agents) for (const tool of agent.tools.values()) if (!tool.human) byName.set(tool.name, [...(byName.get(tool.name) ?? []), { agent, tool }]);
  const wanted = new Map<string, { implementation: string; source: string }>();
  const configured = new Map<string, string>();
  for (const agent of agents) for (const [tool, implementation] of Object.entries(agent.configToolBindings ?? {})) configured.set(tool, implementation);
  for (const [tool, implementation] of configured) {
    if (!byName.has(tool)) problems.push(`toolBindings.${tool}: no agent has a tool of that name (tools: ${[...byName.keys()].join(', ') || 'none'})`);
    else wanted.set(tool, { implementation, source: 'config' });
  }
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith('TWELVE_TOOL_') || value === undefined) continue;
    const tool = [...byName.keys()].find((t) => toolBindingVariable(t) === name);
    if (!tool) {
      if (agents.length > 0) problems.push(`${name}: no agent has a tool named like that (tools: ${[...byName.keys()].map(toolBindingVariable).join(', ') || 'none'})`);
      continue;
    }
    wanted.set(tool, { implementation: value, source: name });
  }
  for (const [tool, binding] of wanted) {
    const where = binding.source === 'config' ? `toolBindings.${tool}` : binding.source;
    for (const { agent, tool: found } of byName.get(tool)!) {
      const names = implementationNames(found);
      if (!names.includes(binding.implementation)) {
        problems.push(`${where}: tool ${tool} of agent ${agent.name} has no implementation "${binding.implementation}" (it has ${names.join(', ')})`);
        continue;
      }
      if (binding.implementation !== 'live') ((overrides[agent.name] ??= {}).toolBindings ??= {})[tool] = binding;
    }
  }
}

/** `issue_refund` -> `ISSUE_REFUND` (the suffix of TWELVE_AGENT_<NAME>_APPROVAL_<TOOL>). */
export function toolEnvName(tool: string): string {
  return tool.toUpperCase().replace(/[^A-Z0-9]/g, '_');
}

/** `refunds` -> `TWELVE_AGENT_REFUNDS_`; `email-classifier` -> `TWELVE_AGENT_EMAIL_CLASSIFIER_`. */
export function agentEnvPrefix(agentName: string): string {
  return `TWELVE_AGENT_${agentName.toUpperCase().replace(/-/g, '_')}_`;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, agents: readonly Agent[] = []): TwelveConfig {
  const problems: string[] = [];
  const parsed = base.safeParse(env);
  const audit = auditConfigOf(env);
  problems.push(...audit.problems);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const name = String(issue.path[0] ?? '?');
      problems.push(`${name}: ${issue.message}${env[name] !== undefined && !/KEY$/.test(name) ? ` (got "${env[name]}")` : ''}`);
    }
  }
  const tenants = parseTenantConfig(env, problems);
  const overrides: Record<string, AgentOverrides> = {};
  const byPrefix = new Map(agents.map((agent) => [agentEnvPrefix(agent.name), agent]));
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith('TWELVE_AGENT_') || value === undefined) continue;
    const approvalPrefix = [...byPrefix.keys()].find((p) => name.startsWith(`${p}APPROVAL_`));
    if (approvalPrefix) {
      const agent = byPrefix.get(approvalPrefix)!;
      const suffix = name.slice(`${approvalPrefix}APPROVAL_`.length);
      const tool = [...agent.tools.keys()].find((t) => toolEnvName(t) === suffix);
      if (!tool) problems.push(`${name}: agent ${agent.name} has no tool "${suffix}" (tools: ${[...agent.tools.keys()].map(toolEnvName).join(', ') || 'none'})`);
      else if (value !== 'always') problems.push(`${name}: the environment can only tighten approval, so the value must be "always" (got "${value}")`);
      else ((overrides[agent.name] ??= {}).approvals ??= {})[tool] = 'always';
      continue;
    }
    const prefix = [...byPrefix.keys()].find((p) => name.startsWith(p) && Object.hasOwn(agentKeys, name.slice(p.length)));
    if (!prefix) {
      if (agents.length > 0) {
        problems.push(`${name}: no agent or setting of that name (agents: ${agents.map((a) => a.name).join(', ')}; settings: ${Object.keys(agentKeys).join(', ')})`);
      }
      continue;
    }
    const agent = byPrefix.get(prefix)!;
    const [key, schema] = agentKeys[name.slice(prefix.length)]!;
    const result = schema.safeParse(value);
    if (!result.success) {
      problems.push(`${name}: ${result.error.issues[0]?.message ?? 'invalid'} (got "${value}")`);
      continue;
    }
    (overrides[agent.name] ??= {})[key] = (key === 'budgetRaiseCap' ? { maxCostUsd: result.data, variable: name } : result.data) as never;
    if (key === 'model' || key === 'fallbackModels') {
      for (const id of key === 'model' ? [result.data as string] : (result.data as string[])) {
        try {
          const model = parseModelId(id, name);
          if (!agent.options.allowFloatingModel) assertPinned(model, name);
        } catch (error) {
          problems.push((error as Error).message);
        }
      }
    }
  }
  toolBindings(env, agents, overrides, problems);
  if (parsed.success) {
    // Only with valid prices: a TWELVE_MODEL_PRICES that does not parse is already a problem of its own.
    problems.push(...costLimitProblems({ agents, overrides, priceOverrides: parsed.data.TWELVE_MODEL_PRICES, envPrefix: agentEnvPrefix }));
  }
  if (parsed.success && Boolean(parsed.data.TWELVE_NOTIFY_URL) !== Boolean(parsed.data.TWELVE_NOTIFY_SECRET)) {
    problems.push('TWELVE_NOTIFY_URL and TWELVE_NOTIFY_SECRET go together: set both (the secret signs every delivery) or neither');
  }
  if (problems.length > 0 || !parsed.success) {
    throw new TwelveError('config_invalid', `invalid configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n  - ${problems.join('\n  - ')}`, {
      details: { problems },
    });
  }
  const e = parsed.data;
  if (e.TWELVE_MAX_CONSECUTIVE_ERRORS !== undefined) {
    for (const agent of agents) (overrides[agent.name] ??= {}).maxConsecutiveErrors ??= e.TWELVE_MAX_CONSECUTIVE_ERRORS;
  }
  if (e.TWELVE_MAX_BUDGET_RAISE_USD !== undefined) {
    const cap = { maxCostUsd: e.TWELVE_MAX_BUDGET_RAISE_USD, variable: 'TWELVE_MAX_BUDGET_RAISE_USD' };
    for (const agent of agents) (overrides[agent.name] ??= {}).budgetRaiseCap ??= cap;
  }
  return {
    databaseUrl: e.TWELVE_DATABASE_URL,
    log: e.TWELVE_LOG,
    logLevel: e.TWELVE_LOG_LEVEL ?? (e.TWELVE_LOG === 'json' ? 'info' : 'warn'),
    modelMode: e.TWELVE_MODEL_MODE,
    recordingsDir: e.TWELVE_RECORDINGS_DIR,
    prices: e.TWELVE_MODEL_PRICES,
    leaseMs: e.TWELVE_LEASE_MS,
    worker: { concurrency: e.TWELVE_WORKER_CONCURRENCY, pollMs: e.TWELVE_POLL_MS, shutdownGraceMs: e.TWELVE_SHUTDOWN_GRACE_MS },
    notify: e.TWELVE_NOTIFY_URL && e.TWELVE_NOTIFY_SECRET ? { url: e.TWELVE_NOTIFY_URL, secret: e.TWELVE_NOTIFY_SECRET } : undefined,
    humans: e.TWELVE_HUMANS,
    providers: {
      openai: { apiKey: e.OPENAI_API_KEY, baseURL: e.OPENAI_BASE_URL, promptCacheKey: sendsPromptCacheKey(e.TWELVE_OPENAI_PROMPT_CACHE_KEY, e.OPENAI_BASE_URL) },
      anthropic: { apiKey: e.ANTHROPIC_API_KEY, baseURL: e.ANTHROPIC_BASE_URL },
      openaiCompatible: { apiKey: e.TWELVE_OPENAI_COMPATIBLE_API_KEY, baseURL: e.TWELVE_OPENAI_COMPATIBLE_BASE_URL },
    },
    agents: overrides,
    requireLock: e.TWELVE_REQUIRE_LOCK ?? e.NODE_ENV === 'production',
    tenants,
    redactPatterns: e.TWELVE_REDACT_PATTERNS,
    audit: audit.config,
    maxPayloadBytes: e.TWELVE_MAX_PAYLOAD_BYTES,
  };
}

/**
 * Whether `openai:` requests carry a prompt_cache_key. OpenAI's API takes it; a gateway behind
 * OPENAI_BASE_URL (Azure-style) may refuse the unknown field and fail every call, so "auto" sends
 * it only to api.openai.com (the default base URL); "on" / "off" decide for any endpoint.
 */
function sendsPromptCacheKey(setting: 'auto' | 'on' | 'off', baseURL: string | undefined): boolean {
  if (setting !== 'auto') return setting === 'on';
  return baseURL === undefined || new URL(baseURL).hostname === 'api.openai.com';
}

/** One zod issue of TWELVE_MODEL_PRICES in words: `"<model>".<field>: <what is wrong>`. */
function priceIssue(issue: z.core.$ZodIssue): string {
  const [model, ...field] = issue.path.map(String);
  const where = model === undefined ? 'the value' : `"${model}"${field.length ? `.${field.join('.')}` : ''}`;
  if (issue.code === 'unrecognized_keys') return `${where}: unknown ${issue.keys.length === 1 ? 'field' : 'fields'} ${issue.keys.join(', ')} (input, output, cachedInput, cacheWrite)`;
  return `${where}: ${issue.message}`;
}

/**
 * Cache rates on the wrong side of the input rate are mistakes (swapped fields, most likely): a
 * cached read is never dearer than an uncached token, and a cache write never cheaper (it is an
 * uncached token that is also stored; OpenAI bills it at the input rate: leave cacheWrite out).
 * A write priced below input would also let the pre-call budget check under-estimate a call.
 */
function cacheRateProblems(prices: Record<string, { input: number; cachedInput?: number | undefined; cacheWrite?: number | undefined }>): string[] {
  const problems: string[] = [];
  for (const [model, p] of Object.entries(prices)) {
    // A key that is not a model id never matches a call: the built-in price (or none) would be billed instead.
    try {
      parseModelId(model, 'a price');
    } catch (error) {
      problems.push(`"${model}": not a model id, so it would never apply (${(error as Error).message.replace(/^a price: /, '')}; write it as the agent pins it, like "openai:gpt-4o-2024-08-06")`);
    }
    if (p.cachedInput !== undefined && p.cachedInput > p.input) {
      problems.push(`"${model}".cachedInput: ${p.cachedInput} is above its input rate ${p.input} (a cached read is never dearer than an uncached token; swapped fields?)`);
    }
    if (p.cacheWrite !== undefined && p.cacheWrite < p.input) {
      problems.push(`"${model}".cacheWrite: ${p.cacheWrite} is below its input rate ${p.input} (a cache write is never cheaper than an uncached token; leave it out where writes cost the input rate, as on OpenAI)`);
    }
  }
  return problems;
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0]!;
}
