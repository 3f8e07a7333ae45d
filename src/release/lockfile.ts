/**
 * twelve.lock.json: per agent, what its release is made of (model pins, provider package
 * versions, hashes of the prompt and of every schema, limits, approval policies, the
 * environment overrides), written by `twelve build` and committed. The same bytes come out
 * on every machine for the same code: sorted keys, paths relative to the lock, no times.
 */
import { createHash } from 'node:crypto';
import { relative, sep } from 'node:path';
import { z } from 'zod';
import type { AgentRelease } from '../agent/release.js';
import { releaseVariables } from '../config/env.js';
import { TwelveError } from '../errors.js';
import { stablePrettyJson, stableStringify } from '../util/stable-json.js';
import { version } from '../version.js';
import { providerPackageVersions } from './provider-versions.js';

export const lockFileName = 'twelve.lock.json';
export const lockfileVersion = 1;

const sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'must be a sha256 in hex');
const limitValue = z.number().nullable();

const toolLockSchema = z.object({
  name: z.string(),
  descriptionSha256: sha256,
  effect: z.string(),
  maxAttempts: z.number(),
  inputSchemaSha256: sha256,
  outputSchemaSha256: sha256.nullable(),
  /** The MCP server the tool comes from (absent for tools written in code). */
  mcp: z.string().optional(),
});

const approvalLockSchema = z.object({
  policy: z.string(),
  source: z.string(),
  approvers: z.array(z.string()),
  people: z.array(z.string()),
  timeoutMs: z.number().nullable(),
  onTimeout: z.string(),
});

const reviewLockSchema = z.object({
  policy: z.string(),
  reviewers: z.array(z.string()),
  people: z.array(z.string()),
  timeoutMs: z.number().nullable(),
  onTimeout: z.string(),
});
/** What a lock written before output review existed means: no review. */
const noReview = { policy: 'never', reviewers: [], people: [], timeoutMs: null, onTimeout: 'fail' };

const agentLockSchema = z.object({
  releaseId: z.string(),
  purpose: z.string(),
  model: z.string(),
  fallbackModels: z.array(z.string()),
  /** @ai-sdk/* package -> installed version, null when not installed. */
  providerPackages: z.record(z.string(), z.string().nullable()),
  /** path: relative to the lock's directory with "/" separators, or "inline". */
  prompt: z.object({ path: z.string(), sha256 }),
  inputSchemaSha256: sha256,
  outputSchemaSha256: sha256.nullable(),
  tools: z.array(toolLockSchema),
  prefetch: z.array(z.string()),
  limits: z.record(z.string(), limitValue),
  modelSettings: z.record(z.string(), limitValue),
  approvals: z.record(z.string(), approvalLockSchema),
  onNewRelease: z.string(),
  /** When the non-LLM fallback answers (null: the agent has none); its source hash is code.fallback. */
  fallback: z.object({ on: z.array(z.string()) }).nullable().default(null),
  /** Where the output's confidence is read: a field, or a function (its source hash is code.confidence); null: nowhere. */
  confidence: z.union([z.object({ field: z.string() }), z.object({ function: z.literal(true) })]).nullable().default(null),
  /** The output review policy ("predicate": its code hash is code.review), reviewers, deadline and its default. */
  review: reviewLockSchema.default(noReview),
  /** Source hashes of the functions that shape behaviour (renderContext, prefetch arguments, approval and review predicates, fallback, confidence). */
  code: z.record(z.string(), z.string()).default({}),
  /** The variables that shaped this release, name -> value. */
  environment: z.record(z.string(), z.string()),
  /** Tools bound to an implementation other than live (TWELVE_TOOL_<NAME>, config toolBindings); absent when none is. */
  toolBindings: z.record(z.string(), z.string()).optional(),
});

const lockSchema = z.object({
  lockfileVersion: z.literal(lockfileVersion),
  twelve: z.string(),
  agents: z.record(z.string(), agentLockSchema),
});

export type Lockfile = z.infer<typeof lockSchema>;
export type AgentLock = z.infer<typeof agentLockSchema>;
export type ToolLock = z.infer<typeof toolLockSchema>;

export interface BuildLockOptions {
  releases: readonly AgentRelease[];
  /** Where the environment overrides come from (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Where the project's node_modules are looked up (the config file's directory). */
  projectDir: string;
  /** The directory the lock file is written to: prompt paths are relative to it. */
  lockDir: string;
}

export function buildLock({ releases, env = process.env, projectDir, lockDir }: BuildLockOptions): Lockfile {
  const versions = providerPackageVersions(projectDir);
  const agents: Record<string, AgentLock> = {};
  for (const release of releases) agents[release.agent.name] = agentLock(release, env, lockDir, versions);
  return { lockfileVersion, twelve: version, agents };
}

function agentLock(release: AgentRelease, env: NodeJS.ProcessEnv, lockDir: string, versions: (models: readonly string[]) => Record<string, string | null>): AgentLock {
  const { agent, manifest } = release;
  const behaviour = manifest.toolBehaviour as Record<string, { effect: string; maxAttempts: number; output: unknown }>;
  const source = agent.promptSource;
  return {
    releaseId: release.releaseId,
    purpose: agent.purpose,
    model: release.models[0]!,
    fallbackModels: release.models.slice(1),
    providerPackages: versions(release.models),
    prompt: { path: source === 'inline' ? 'inline' : relative(lockDir, source).split(sep).join('/'), sha256: hashText(agent.promptTemplate) },
    inputSchemaSha256: hashJson(manifest.input),
    outputSchemaSha256: release.outputJsonSchema ? hashJson(release.outputJsonSchema) : null,
    tools: release.toolSpecs.map((spec) => {
      const tool = behaviour[spec.name]!;
      return {
        name: spec.name,
        descriptionSha256: hashText(spec.description),
        effect: tool.effect,
        maxAttempts: tool.maxAttempts,
        inputSchemaSha256: hashJson(spec.inputSchema),
        outputSchemaSha256: tool.output ? hashJson(tool.output) : null,
        ...(agent.tools.get(spec.name)?.mcp ? { mcp: agent.tools.get(spec.name)!.mcp!.server } : {}),
      };
    }),
    prefetch: manifest.prefetch as string[],
    limits: nullsForMissing(release.limits),
    modelSettings: nullsForMissing(release.settings),
    approvals: Object.fromEntries(
      [...release.approvals].map(([tool, approval]) => [tool, { ...approval, approvers: [...approval.approvers], people: [...approval.people], timeoutMs: approval.timeoutMs ?? null }]),
    ),
    onNewRelease: String(manifest.onNewRelease),
    fallback: (manifest.fallback as AgentLock['fallback'] | undefined) ?? null,
    confidence: (manifest.confidence as AgentLock['confidence'] | undefined) ?? null,
    review: { ...release.review, reviewers: [...release.review.reviewers], people: [...release.review.people], timeoutMs: release.review.timeoutMs ?? null },
    code: { ...((manifest.code ?? {}) as Record<string, string>) },
    environment: releaseVariables(env, agent),
    ...(manifest.toolBindings ? { toolBindings: { ...(manifest.toolBindings as Record<string, string>) } } : {}),
  };
}

/** The lock as committed: sorted keys, two-space indent, trailing newline. */
export function renderLock(lock: Lockfile): string {
  return stablePrettyJson(lock);
}

/** Parses a lock file's text; `where` names the file in the error. */
export function parseLock(text: string, where: string): Lockfile {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    // One line: JSON.parse quotes the text around the error, newlines included.
    throw unreadable(where, `not JSON: ${(error as Error).message.replace(/\s+/g, ' ').slice(0, 120)}`);
  }
  const parsed = lockSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw unreadable(where, `${issue.path.join('.') || '(top)'}: ${issue.message}`);
  }
  return parsed.data;
}

function unreadable(where: string, problem: string): TwelveError {
  return new TwelveError('config_invalid', `${where} is not a lock file this Twelve can read (${problem}); run twelve build to write it again`, {
    details: { lock: where },
  });
}

export function hashText(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export function hashJson(value: unknown): string {
  return hashText(stableStringify(value));
}

/** Unset limits and settings as explicit nulls, so the lock shows every key and a diff can name it. */
function nullsForMissing(values: object): Record<string, number | null> {
  return Object.fromEntries(Object.entries(values).map(([key, value]) => [key, typeof value === 'number' ? value : null]));
}
