/**
 * Compares the model request a candidate release would send with the one the original
 * release sent, part by part, and says what differs in the words a person reviewing a
 * change needs: which prompt lines, which message, which tool, which setting, which model.
 */
import type { LanguageModelV3CallOptions } from '@ai-sdk/provider';
import type { AgentRelease, ResolvedModelSettings, ToolSpec } from '../agent/release.js';
import { clipText } from '../thread/clip-text.js';
import { stableStringify } from '../util/stable-json.js';
import { lineDiff } from './line-diff.js';
import type { DivergenceKind } from './types.js';

export interface Difference {
  kind: DivergenceKind;
  detail: string;
  expected?: unknown;
  actual?: unknown;
}

export interface SideRequest {
  release: AgentRelease;
  request: LanguageModelV3CallOptions;
}

/** Every difference, in the order a reviewer reads them: prompt, messages, tools, output, settings, model. */
export function compareRequests(original: SideRequest, candidate: SideRequest): Difference[] {
  const differences: Difference[] = [];
  const [originalSystem, originalRest] = splitSystem(original.request.prompt);
  const [candidateSystem, candidateRest] = splitSystem(candidate.request.prompt);
  const system = compareSystem(originalSystem, candidateSystem);
  if (system) differences.push(system);
  const messages = compareMessages(originalRest, candidateRest, originalSystem === undefined ? 0 : 1);
  if (messages) differences.push(messages);
  differences.push(...compareReleases(original.release, candidate.release));
  return differences;
}

/** What differs between two releases whatever the events: tools, output schema, settings, models (computed once per pair). */
const releasePairs = new WeakMap<AgentRelease, WeakMap<AgentRelease, Difference[]>>();

function compareReleases(original: AgentRelease, candidate: AgentRelease): Difference[] {
  let byCandidate = releasePairs.get(original);
  if (!byCandidate) releasePairs.set(original, (byCandidate = new WeakMap()));
  let differences = byCandidate.get(candidate);
  if (!differences) {
    differences = [
      compareTools(original.toolSpecs, candidate.toolSpecs),
      compareOutput(original.outputJsonSchema, candidate.outputJsonSchema),
      compareSettings(original.settings, candidate.settings),
      compareModels(original.models, candidate.models),
    ].filter((difference): difference is Difference => difference !== undefined);
    byCandidate.set(candidate, differences);
  }
  return differences;
}

/**
 * Each message as canonical JSON, computed once per message object: a context builder keeps
 * its message objects from step to step, so a replay stringifies each message once, not once
 * per later step (that made a 10-step replay O(steps x messages) in stableStringify).
 */
const canonical = new WeakMap<object, string>();

function canonicalOf(message: object): string {
  let text = canonical.get(message);
  if (text === undefined) canonical.set(message, (text = stableStringify(message)));
  return text;
}

type Prompt = LanguageModelV3CallOptions['prompt'];

function splitSystem(prompt: Prompt): [string | undefined, Prompt] {
  const first = prompt[0];
  return first?.role === 'system' ? [first.content, prompt.slice(1)] : [undefined, prompt];
}

function compareSystem(expected: string | undefined, actual: string | undefined): Difference | undefined {
  if (expected === actual) return undefined;
  if (expected === undefined || actual === undefined) {
    return { kind: 'system_prompt', detail: expected === undefined ? 'the candidate adds a system prompt' : 'the candidate has no system prompt', expected: short(expected ?? ''), actual: short(actual ?? '') };
  }
  const diff = lineDiff(expected, actual);
  return { kind: 'system_prompt', detail: `the system prompt differs at line ${diff.line}:\n${diff.changes.map((line) => `  ${line}`).join('\n')}`, expected: diff.changes.filter((l) => l.startsWith('-')).map((l) => l.slice(2)), actual: diff.changes.filter((l) => l.startsWith('+')).map((l) => l.slice(2)) };
}

function compareMessages(expected: Prompt, actual: Prompt, offset: number): Difference | undefined {
  const count = Math.min(expected.length, actual.length);
  for (let index = 0; index < count; index++) {
    if (expected[index] === actual[index]) continue;
    const a = canonicalOf(expected[index]!);
    const b = canonicalOf(actual[index]!);
    if (a !== b) {
      return { kind: 'messages', detail: `message ${index + offset} (${describe(expected[index]!)}) differs`, expected: short(a), actual: short(b) };
    }
  }
  if (expected.length !== actual.length) {
    const extra = expected.length > actual.length ? expected[count]! : actual[count]!;
    return {
      kind: 'messages',
      detail: `${expected.length + offset} messages recorded, the candidate renders ${actual.length + offset} (first ${expected.length > actual.length ? 'missing' : 'extra'}: message ${count + offset}, ${describe(extra)})`,
      expected: expected.length + offset,
      actual: actual.length + offset,
    };
  }
  return undefined;
}

function describe(message: Prompt[number]): string {
  if (message.role === 'system') return 'system';
  const parts = message.content.map((part) => {
    if (part.type === 'tool-call') return `call ${part.toolName}`;
    if (part.type === 'tool-result') return `result of ${part.toolName}`;
    return part.type;
  });
  return `${message.role}: ${[...new Set(parts)].join(', ') || 'empty'}`;
}

function compareTools(expected: readonly ToolSpec[], actual: readonly ToolSpec[]): Difference | undefined {
  const before = new Map(expected.map((tool) => [tool.name, tool]));
  const after = new Map(actual.map((tool) => [tool.name, tool]));
  const added = [...after.keys()].filter((name) => !before.has(name));
  const removed = [...before.keys()].filter((name) => !after.has(name));
  const changed: string[] = [];
  for (const [name, tool] of after) {
    const old = before.get(name);
    if (!old) continue;
    const what: string[] = [];
    if (old.description !== tool.description) what.push('description');
    if (stableStringify(old.inputSchema) !== stableStringify(tool.inputSchema)) what.push(`input schema${fieldsChanged(old.inputSchema, tool.inputSchema)}`);
    if (what.length > 0) changed.push(`${name} (${what.join(', ')})`);
  }
  const parts = [added.length ? `added ${added.join(', ')}` : '', removed.length ? `removed ${removed.join(', ')}` : '', changed.length ? `changed ${changed.join('; ')}` : ''].filter(Boolean);
  if (parts.length === 0) {
    const order = (tools: readonly ToolSpec[]) => tools.map((tool) => tool.name).join(', ');
    if (order(expected) === order(actual)) return undefined;
    return { kind: 'tools', detail: `the tools are offered in another order`, expected: order(expected), actual: order(actual) };
  }
  return { kind: 'tools', detail: `tools offered: ${parts.join('; ')}`, expected: expected.map((tool) => tool.name), actual: actual.map((tool) => tool.name) };
}

/** ": fields amountCents, reason" for the top-level properties (and required list) that changed. */
function fieldsChanged(before: Record<string, unknown>, after: Record<string, unknown>): string {
  const a = (before.properties ?? {}) as Record<string, unknown>;
  const b = (after.properties ?? {}) as Record<string, unknown>;
  const fields = [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((key) => stableStringify(a[key]) !== stableStringify(b[key]));
  if (stableStringify(before.required ?? []) !== stableStringify(after.required ?? [])) fields.push('(required)');
  return fields.length ? `: ${fields.join(', ')}` : '';
}

function compareOutput(expected: Record<string, unknown> | undefined, actual: Record<string, unknown> | undefined): Difference | undefined {
  if (stableStringify(expected ?? null) === stableStringify(actual ?? null)) return undefined;
  if (!expected || !actual) {
    return { kind: 'output', detail: expected ? 'the candidate asks for no structured answer (no output schema)' : 'the candidate asks for a structured answer (it adds an output schema)' };
  }
  return { kind: 'output', detail: `the output schema asked of the model changed${fieldsChanged(expected, actual).replace(': ', ': fields ')}`, expected: short(stableStringify(expected)), actual: short(stableStringify(actual)) };
}

function compareSettings(expected: ResolvedModelSettings, actual: ResolvedModelSettings): Difference | undefined {
  // Only what the request carries: timeoutMs and maxRetries do not reach the model.
  const changes: string[] = [];
  for (const key of ['temperature', 'maxOutputTokens'] as const) {
    if (expected[key] !== actual[key]) changes.push(`${key} ${expected[key] ?? '(unset)'} -> ${actual[key] ?? '(unset)'}`);
  }
  if (changes.length === 0) return undefined;
  return { kind: 'settings', detail: changes.join(', '), expected: { temperature: expected.temperature, maxOutputTokens: expected.maxOutputTokens }, actual: { temperature: actual.temperature, maxOutputTokens: actual.maxOutputTokens } };
}

function compareModels(expected: readonly string[], actual: readonly string[]): Difference | undefined {
  if (expected[0] !== actual[0]) return { kind: 'model', detail: `primary model ${expected[0]} -> ${actual[0]}`, expected: expected[0], actual: actual[0] };
  if (expected.join(',') === actual.join(',')) return undefined;
  return { kind: 'model', detail: `fallback chain ${expected.slice(1).join(', ') || '(none)'} -> ${actual.slice(1).join(', ') || '(none)'}`, expected: [...expected], actual: [...actual] };
}

function short(text: string): string {
  return clipText(text, 240);
}
