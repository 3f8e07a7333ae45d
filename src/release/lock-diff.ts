/**
 * What differs between a committed lock and the lock the code would write now, one readable
 * line per change ("refunds: limits.maxSteps 20 -> 30"), for `twelve build --check` and for
 * the refusal of serve/worker/run. Arrows point from the lock to the code.
 */
import type { AgentLock, Lockfile } from './lockfile.js';

export type DriftKind =
  | 'lockfile_version'
  | 'twelve_version'
  | 'agent_added'
  | 'agent_removed'
  | 'release'
  | 'purpose'
  | 'model'
  | 'fallback_models'
  | 'provider_package'
  | 'prompt'
  | 'input_schema'
  | 'output_schema'
  | 'tool_added'
  | 'tool_removed'
  | 'tool'
  | 'tools_order'
  | 'prefetch'
  | 'limit'
  | 'model_setting'
  | 'approval'
  | 'on_new_release'
  | 'fallback'
  | 'confidence'
  | 'review'
  | 'code'
  | 'environment'
  | 'tool_binding';

export interface LockDrift {
  /** null for what concerns the whole lock (its format, the Twelve version). */
  agent: string | null;
  kind: DriftKind;
  /** The change in words, without the agent's name. */
  detail: string;
}

export interface DiffOptions {
  /**
   * Only these agents of the code are compared, and agents in the lock but not among them are
   * not "removed" (`twelve run path/to/agent.ts` loads one agent of a larger project).
   */
  partial?: boolean;
}

/** Every difference from `committed` (the file) to `current` (the code); empty when they are the same. */
export function diffLocks(committed: Lockfile, current: Lockfile, options: DiffOptions = {}): LockDrift[] {
  const drifts: LockDrift[] = [];
  if (committed.lockfileVersion !== current.lockfileVersion) {
    drifts.push({ agent: null, kind: 'lockfile_version', detail: `lockfileVersion ${committed.lockfileVersion} → ${current.lockfileVersion}` });
  }
  if (committed.twelve !== current.twelve) drifts.push({ agent: null, kind: 'twelve_version', detail: `twelve ${committed.twelve} → ${current.twelve}` });
  const names = [...new Set([...Object.keys(committed.agents), ...Object.keys(current.agents)])].sort();
  for (const name of names) {
    const before = committed.agents[name];
    const after = current.agents[name];
    if (!before) drifts.push({ agent: name, kind: 'agent_added', detail: `agent added (release ${after!.releaseId}; not in the lock)` });
    else if (!after) {
      if (!options.partial) drifts.push({ agent: name, kind: 'agent_removed', detail: `agent removed (release ${before.releaseId} is in the lock, not in the code)` });
    } else drifts.push(...diffAgent(before, after).map((d) => ({ agent: name, ...d })));
  }
  return drifts;
}

type AgentDrift = Omit<LockDrift, 'agent'>;

function diffAgent(before: AgentLock, after: AgentLock): AgentDrift[] {
  const out: AgentDrift[] = [];
  const add = (kind: DriftKind, detail: string) => out.push({ kind, detail });
  if (before.purpose !== after.purpose) add('purpose', `purpose ${JSON.stringify(before.purpose)} → ${JSON.stringify(after.purpose)}`);
  if (before.model !== after.model) add('model', `model ${before.model} → ${after.model}`);
  if (!same(before.fallbackModels, after.fallbackModels)) add('fallback_models', `fallbackModels ${show(before.fallbackModels)} → ${show(after.fallbackModels)}`);
  for (const name of keys(before.providerPackages, after.providerPackages)) {
    const [was, is] = [before.providerPackages[name], after.providerPackages[name]];
    if (was === is) continue;
    if (was === undefined) add('provider_package', `provider package ${name} now used (${packageVersion(is)})`);
    else if (is === undefined) add('provider_package', `provider package ${name} no longer used`);
    else add('provider_package', `provider package ${name} ${packageVersion(was)} → ${packageVersion(is)}`);
  }
  const [promptBefore, promptAfter] = [before.prompt, after.prompt];
  if (promptBefore.sha256 !== promptAfter.sha256) {
    const where = promptBefore.path === promptAfter.path ? promptAfter.path : `${promptBefore.path} → ${promptAfter.path},`;
    add('prompt', `prompt changed (${where} sha256 ${short(promptBefore.sha256)} → ${short(promptAfter.sha256)})`);
  } else if (promptBefore.path !== promptAfter.path) add('prompt', `prompt moved (${promptBefore.path} → ${promptAfter.path}; same text)`);
  if (before.inputSchemaSha256 !== after.inputSchemaSha256) add('input_schema', `input schema changed (sha256 ${short(before.inputSchemaSha256)} → ${short(after.inputSchemaSha256)})`);
  const output = schemaChange(before.outputSchemaSha256, after.outputSchemaSha256);
  if (output) add('output_schema', `output schema ${output}`);
  out.push(...diffTools(before, after));
  if (!same(before.prefetch, after.prefetch)) add('prefetch', `prefetch ${show(before.prefetch)} → ${show(after.prefetch)}`);
  for (const key of keys(before.limits, after.limits)) {
    if (before.limits[key] !== after.limits[key]) add('limit', `limits.${key} ${show(before.limits[key])} → ${show(after.limits[key])}`);
  }
  for (const key of keys(before.modelSettings, after.modelSettings)) {
    if (before.modelSettings[key] !== after.modelSettings[key]) add('model_setting', `modelSettings.${key} ${show(before.modelSettings[key])} → ${show(after.modelSettings[key])}`);
  }
  for (const tool of keys(before.approvals, after.approvals)) {
    const [was, is] = [before.approvals[tool], after.approvals[tool]];
    // A tool added or removed is reported once, as a tool.
    if (!was || !is) continue;
    for (const field of keys(was, is)) {
      const [a, b] = [(was as Record<string, unknown>)[field], (is as Record<string, unknown>)[field]];
      if (!same(a, b)) add('approval', `approval of tool ${tool}: ${field} ${show(a)} → ${show(b)}`);
    }
  }
  if (before.onNewRelease !== after.onNewRelease) add('on_new_release', `onNewRelease ${before.onNewRelease} → ${after.onNewRelease}`);
  if (!same(before.fallback, after.fallback)) add('fallback', `non-LLM fallback ${before.fallback ? `on ${show(before.fallback.on)}` : 'none'} → ${after.fallback ? `on ${show(after.fallback.on)}` : 'none'}`);
  if (!same(before.confidence, after.confidence)) add('confidence', `confidence ${confidenceText(before.confidence)} → ${confidenceText(after.confidence)}`);
  for (const field of keys(before.review, after.review)) {
    const [a, b] = [(before.review as Record<string, unknown>)[field], (after.review as Record<string, unknown>)[field]];
    if (!same(a, b)) add('review', `review ${field} ${show(a)} → ${show(b)}`);
  }
  for (const name of keys(before.code, after.code)) {
    const [was, is] = [before.code[name], after.code[name]];
    if (was !== is) add('code', `${name} ${was === undefined ? 'added' : is === undefined ? 'removed' : 'code changed'}`);
  }
  const [boundBefore, boundAfter] = [before.toolBindings ?? {}, after.toolBindings ?? {}];
  for (const tool of keys(boundBefore, boundAfter)) {
    if (boundBefore[tool] !== boundAfter[tool]) add('tool_binding', `tool ${tool}: binding ${boundBefore[tool] ?? 'live'} → ${boundAfter[tool] ?? 'live'}`);
  }
  for (const name of keys(before.environment, after.environment)) {
    const [was, is] = [before.environment[name], after.environment[name]];
    if (was !== is) add('environment', `environment ${name} ${was === undefined ? 'unset' : JSON.stringify(was)} → ${is === undefined ? 'unset' : JSON.stringify(is)}`);
  }
  if (before.releaseId !== after.releaseId) {
    // The release id hashes a few things the lock does not itemise (ask-human settings, for one).
    const note = out.some((d) => d.kind !== 'provider_package' && !d.detail.startsWith('prompt moved')) ? '' : ' (a change the lock does not itemise, such as the ask-human settings)';
    add('release', `release ${before.releaseId} → ${after.releaseId}${note}`);
  }
  return out;
}

function diffTools(before: AgentLock, after: AgentLock): AgentDrift[] {
  const out: AgentDrift[] = [];
  const was = new Map(before.tools.map((t) => [t.name, t]));
  const is = new Map(after.tools.map((t) => [t.name, t]));
  for (const tool of before.tools) if (!is.has(tool.name)) out.push({ kind: 'tool_removed', detail: `tool ${tool.name} removed` });
  for (const tool of after.tools) {
    const old = was.get(tool.name);
    if (!old) {
      out.push({ kind: 'tool_added', detail: `tool ${tool.name} added` });
      continue;
    }
    const say = (detail: string) => out.push({ kind: 'tool', detail: `tool ${tool.name}: ${detail}` });
    if (old.inputSchemaSha256 !== tool.inputSchemaSha256) say(`input schema changed (sha256 ${short(old.inputSchemaSha256)} → ${short(tool.inputSchemaSha256)})`);
    const output = schemaChange(old.outputSchemaSha256, tool.outputSchemaSha256);
    if (output) say(`output schema ${output}`);
    if (old.descriptionSha256 !== tool.descriptionSha256) say('description changed');
    if (old.effect !== tool.effect) say(`effect ${old.effect} → ${tool.effect}`);
    if (old.maxAttempts !== tool.maxAttempts) say(`maxAttempts ${old.maxAttempts} → ${tool.maxAttempts}`);
    if (old.mcp !== tool.mcp) say(`MCP server ${old.mcp ?? 'none'} → ${tool.mcp ?? 'none'}`);
  }
  const common = (tools: AgentLock['tools'], other: Map<string, unknown>) => tools.map((t) => t.name).filter((name) => other.has(name));
  const [orderBefore, orderAfter] = [common(before.tools, is), common(after.tools, was)];
  if (!same(orderBefore, orderAfter)) out.push({ kind: 'tools_order', detail: `tools reordered ${show(orderBefore)} → ${show(orderAfter)}` });
  return out;
}

function schemaChange(before: string | null, after: string | null): string | undefined {
  if (before === after) return undefined;
  if (before === null) return `added (sha256 ${short(after!)})`;
  if (after === null) return 'removed';
  return `changed (sha256 ${short(before)} → ${short(after)})`;
}

/** Lines for people: "refunds: prompt changed (...)". */
export function formatDrift(drift: LockDrift): string {
  return drift.agent === null ? drift.detail : `${drift.agent}: ${drift.detail}`;
}

function confidenceText(spec: AgentLock['confidence']): string {
  if (!spec) return 'none';
  return 'field' in spec ? `field ${spec.field}` : 'a function';
}

function keys(a: object, b: object): string[] {
  return [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function show(value: unknown): string {
  if (value === null || value === undefined) return 'none';
  if (Array.isArray(value)) return `[${value.join(', ')}]`;
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function packageVersion(value: string | null | undefined): string {
  return value ?? 'not installed';
}

function short(hash: string): string {
  return `${hash.slice(0, 8)}…`;
}
