/**
 * What changed between two releases of an agent, read from their manifests (the exact data
 * each release id hashes): prompt, models, settings, limits, tools and their schemas field by
 * field, approval policies, output review, output schema, the non-LLM fallback and where confidence is read. One list serves `twelve releases diff`, the
 * `release_changed` event and `twelve deploy plan`. Pure: no I/O.
 */
import { diffArrays } from 'diff';
import { stableStringify } from '../util/stable-json.js';

export type ReleaseChangeKind =
  | 'prompt'
  | 'purpose'
  | 'model'
  | 'settings'
  | 'limits'
  | 'tool_added'
  | 'tool_removed'
  | 'tool_description'
  | 'tool_input'
  | 'tool_output'
  | 'tool_behaviour'
  | 'approval'
  | 'output'
  | 'input'
  | 'prefetch'
  | 'human_tool'
  | 'on_new_release'
  | 'fallback'
  | 'confidence'
  | 'review'
  | 'code'
  | 'tool_binding'
  | 'twelve';

export interface ReleaseChange {
  kind: ReleaseChangeKind;
  /** Where, as a dotted path: `tools.refund.input.amountCents`, `limits.maxSteps`, `prompt`. */
  path: string;
  /** One readable line. */
  detail: string;
  /** For tool changes: the tool's name. */
  tool?: string;
  before?: unknown;
  after?: unknown;
}

type Manifest = Record<string, unknown>;
type Json = Record<string, unknown>;

interface ToolEntry {
  name: string;
  description?: string;
  inputSchema?: Json;
}

/**
 * @example
 * diffManifests(old.manifest, current.manifest)
 * // [{ kind: 'model', path: 'models', detail: 'models openai:gpt-4o-2024-08-06 → openai:gpt-4o-2024-11-20', ... }]
 */
export function diffManifests(before: Manifest, after: Manifest): ReleaseChange[] {
  const changes: ReleaseChange[] = [];
  const differs = (a: unknown, b: unknown) => stableStringify(a ?? null) !== stableStringify(b ?? null);

  if (differs(before.prompt, after.prompt)) {
    changes.push({ kind: 'prompt', path: 'prompt', detail: `prompt text changed (${lineCountChange(String(before.prompt ?? ''), String(after.prompt ?? ''))})`, before: before.prompt, after: after.prompt });
  }
  if (differs(before.purpose, after.purpose)) changes.push({ kind: 'purpose', path: 'purpose', detail: 'purpose changed', before: before.purpose, after: after.purpose });
  if (differs(before.models, after.models)) {
    changes.push({ kind: 'model', path: 'models', detail: `models ${list(before.models)} → ${list(after.models)}`, before: before.models, after: after.models });
  }
  for (const section of ['settings', 'limits'] as const) {
    const a = (before[section] ?? {}) as Json;
    const b = (after[section] ?? {}) as Json;
    for (const key of unionKeys(a, b)) {
      if (differs(a[key], b[key])) changes.push({ kind: section, path: `${section}.${key}`, detail: `${section}.${key} ${show(a[key])} → ${show(b[key])}`, before: a[key], after: b[key] });
    }
  }

  const toolsBefore = toolMap(before.tools);
  const toolsAfter = toolMap(after.tools);
  for (const name of unionKeys(toolsBefore, toolsAfter)) {
    const a = toolsBefore[name];
    const b = toolsAfter[name];
    if (!a) {
      changes.push({ kind: 'tool_added', path: `tools.${name}`, tool: name, detail: `tool ${name} added` });
      continue;
    }
    if (!b) {
      changes.push({ kind: 'tool_removed', path: `tools.${name}`, tool: name, detail: `tool ${name} removed` });
      continue;
    }
    if (differs(a.description, b.description)) changes.push({ kind: 'tool_description', path: `tools.${name}.description`, tool: name, detail: `tool ${name}: description changed`, before: a.description, after: b.description });
    for (const change of schemaChanges(a.inputSchema, b.inputSchema, `tools.${name}.input`, `tool ${name} input`)) changes.push({ kind: 'tool_input', tool: name, ...change });
  }
  const behaviourBefore = (before.toolBehaviour ?? {}) as Record<string, Json>;
  const behaviourAfter = (after.toolBehaviour ?? {}) as Record<string, Json>;
  for (const name of unionKeys(behaviourBefore, behaviourAfter)) {
    const a = behaviourBefore[name];
    const b = behaviourAfter[name];
    if (!a || !b) continue; // added or removed: reported above
    for (const change of schemaChanges(a.output as Json | null, b.output as Json | null, `tools.${name}.output`, `tool ${name} output`)) changes.push({ kind: 'tool_output', tool: name, ...change });
    for (const key of ['effect', 'maxAttempts']) {
      if (differs(a[key], b[key])) changes.push({ kind: 'tool_behaviour', tool: name, path: `tools.${name}.${key}`, detail: `tool ${name}: ${key} ${show(a[key])} → ${show(b[key])}`, before: a[key], after: b[key] });
    }
  }

  const approvalsBefore = (before.approvals ?? {}) as Record<string, Json>;
  const approvalsAfter = (after.approvals ?? {}) as Record<string, Json>;
  for (const name of unionKeys(approvalsBefore, approvalsAfter)) {
    const a = approvalsBefore[name];
    const b = approvalsAfter[name];
    if (!a || !b) continue;
    for (const key of unionKeys(a, b)) {
      if (!differs(a[key], b[key])) continue;
      const detail = key === 'policy' ? `tool ${name}: approval ${show(a[key])} → ${show(b[key])} (${approvalDirection(a[key], b[key])})` : `tool ${name}: approval ${key} ${show(a[key])} → ${show(b[key])}`;
      changes.push({ kind: 'approval', tool: name, path: `approvals.${name}.${key}`, detail, before: a[key], after: b[key] });
    }
  }

  for (const change of schemaChanges(before.output as Json | null, after.output as Json | null, 'output')) changes.push({ kind: 'output', ...change });
  for (const change of schemaChanges(before.input as Json | null, after.input as Json | null, 'input')) changes.push({ kind: 'input', ...change });
  if (differs(before.prefetch, after.prefetch)) changes.push({ kind: 'prefetch', path: 'prefetch', detail: `prefetch ${list(before.prefetch)} → ${list(after.prefetch)}`, before: before.prefetch, after: after.prefetch });
  if (differs(before.humanTools, after.humanTools)) changes.push({ kind: 'human_tool', path: 'humanTools', detail: 'ask-a-human settings changed', before: before.humanTools, after: after.humanTools });
  if (differs(before.onNewRelease, after.onNewRelease)) {
    changes.push({ kind: 'on_new_release', path: 'onNewRelease', detail: `onNewRelease ${show(before.onNewRelease)} → ${show(after.onNewRelease)}`, before: before.onNewRelease, after: after.onNewRelease });
  }
  if (differs(before.fallback, after.fallback)) {
    const on = (m: Manifest) => ((m.fallback as { on?: string[] } | undefined)?.on ? `on ${list((m.fallback as { on: string[] }).on)}` : '(none)');
    changes.push({ kind: 'fallback', path: 'fallback', detail: `non-LLM fallback ${on(before)} → ${on(after)}`, before: before.fallback, after: after.fallback });
  }
  if (differs(before.confidence, after.confidence)) {
    changes.push({ kind: 'confidence', path: 'confidence', detail: `confidence ${confidenceText(before.confidence)} → ${confidenceText(after.confidence)}`, before: before.confidence, after: after.confidence });
  }
  // Manifests written before output review existed had none: the same as "never".
  const noReview = { policy: 'never', reviewers: [], people: [], timeoutMs: null, onTimeout: 'fail' };
  const reviewBefore = (before.review ?? noReview) as Json;
  const reviewAfter = (after.review ?? noReview) as Json;
  for (const key of unionKeys(reviewBefore, reviewAfter)) {
    if (!differs(reviewBefore[key], reviewAfter[key])) continue;
    const detail = key === 'policy' ? `review policy ${show(reviewBefore[key])} → ${show(reviewAfter[key])} (${approvalDirection(reviewBefore[key], reviewAfter[key])})` : `review ${key} ${show(reviewBefore[key])} → ${show(reviewAfter[key])}`;
    changes.push({ kind: 'review', path: `review.${key}`, detail, before: reviewBefore[key], after: reviewAfter[key] });
  }
  const codeBefore = (before.code ?? {}) as Json;
  const codeAfter = (after.code ?? {}) as Json;
  for (const key of unionKeys(codeBefore, codeAfter)) {
    if (differs(codeBefore[key], codeAfter[key])) changes.push({ kind: 'code', path: `code.${key}`, detail: `${key} code changed`, before: codeBefore[key], after: codeAfter[key] });
  }
  // Tools bound by configuration (absent: every tool runs live).
  const boundBefore = (before.toolBindings ?? {}) as Record<string, string>;
  const boundAfter = (after.toolBindings ?? {}) as Record<string, string>;
  for (const name of unionKeys(boundBefore, boundAfter)) {
    if (differs(boundBefore[name], boundAfter[name])) {
      changes.push({ kind: 'tool_binding', tool: name, path: `toolBindings.${name}`, detail: `tool ${name}: binding ${boundBefore[name] ?? 'live'} → ${boundAfter[name] ?? 'live'}`, before: boundBefore[name] ?? 'live', after: boundAfter[name] ?? 'live' });
    }
  }
  if (differs(before.twelve, after.twelve)) changes.push({ kind: 'twelve', path: 'twelve', detail: `twelve ${show(before.twelve)} → ${show(after.twelve)}`, before: before.twelve, after: after.twelve });
  return changes;
}

/** Strictness of an approval policy: a move up the scale asks people more often. */
export const approvalRank: Record<string, number> = { never: 0, predicate: 1, always: 2 };

function approvalDirection(before: unknown, after: unknown): string {
  const a = approvalRank[String(before)];
  const b = approvalRank[String(after)];
  if (a === undefined || b === undefined || a === b) return 'changed';
  return b > a ? 'tighter' : 'looser';
}

/**
 * A JSON Schema compared field by field: properties added or removed, types, required-ness,
 * enums, recursing into nested objects and array items. Anything else that differs is one
 * "constraints changed" line, so no difference goes unreported. `label` starts each detail
 * (`tool refund input`), `path` each path (`tools.refund.input`).
 */
export function schemaChanges(before: Json | null | undefined, after: Json | null | undefined, path: string, label = path): { path: string; detail: string; before?: unknown; after?: unknown }[] {
  return fieldChanges(before, after, '').map((change) => ({
    ...change,
    path: change.field ? `${path}.${change.field}` : path,
    detail: `${label}${change.field ? `.${change.field}` : ''}${change.text}`,
  }));
}

interface FieldChange {
  field: string;
  text: string;
  before?: unknown;
  after?: unknown;
}

function fieldChanges(before: Json | null | undefined, after: Json | null | undefined, field: string): FieldChange[] {
  if (stableStringify(before ?? null) === stableStringify(after ?? null)) return [];
  if (!before) return [{ field, text: ': schema added', after }];
  if (!after) return [{ field, text: ': schema removed', before }];
  const out: FieldChange[] = [];
  const child = (key: string) => (field ? `${field}.${key}` : key);
  if (stableStringify(before.type ?? null) !== stableStringify(after.type ?? null)) {
    out.push({ field, text: `: type ${show(before.type)} → ${show(after.type)}`, before: before.type, after: after.type });
  }
  if (stableStringify(before.enum ?? null) !== stableStringify(after.enum ?? null)) {
    out.push({ field, text: `: allowed values ${show(before.enum)} → ${show(after.enum)}`, before: before.enum, after: after.enum });
  }
  const propsBefore = (before.properties ?? {}) as Record<string, Json>;
  const propsAfter = (after.properties ?? {}) as Record<string, Json>;
  const requiredBefore = new Set((before.required ?? []) as string[]);
  const requiredAfter = new Set((after.required ?? []) as string[]);
  for (const key of unionKeys(propsBefore, propsAfter)) {
    if (!propsBefore[key]) out.push({ field: child(key), text: ` added (${requiredAfter.has(key) ? 'required' : 'optional'})`, after: propsAfter[key] });
    else if (!propsAfter[key]) out.push({ field: child(key), text: ' removed', before: propsBefore[key] });
    else {
      if (requiredBefore.has(key) !== requiredAfter.has(key)) out.push({ field: child(key), text: ` now ${requiredAfter.has(key) ? 'required' : 'optional'}` });
      out.push(...fieldChanges(propsBefore[key], propsAfter[key], child(key)));
    }
  }
  if (before.items || after.items) out.push(...fieldChanges(before.items as Json | undefined, after.items as Json | undefined, `${field}[]`));
  const rest = (schema: Json) => {
    const { type: _type, enum: _enum, properties: _properties, required: _required, items: _items, ...other } = schema;
    return stableStringify(other);
  };
  if (rest(before) !== rest(after)) out.push({ field, text: ': constraints changed' });
  return out;
}

/** Where a manifest reads the output's confidence, in words. */
function confidenceText(spec: unknown): string {
  if (!spec || typeof spec !== 'object') return '(none)';
  const { field } = spec as { field?: unknown };
  return typeof field === 'string' ? `field ${field}` : 'a function';
}

function toolMap(tools: unknown): Record<string, ToolEntry> {
  const map: Record<string, ToolEntry> = {};
  if (Array.isArray(tools)) for (const tool of tools as ToolEntry[]) if (tool?.name) map[tool.name] = tool;
  return map;
}

function unionKeys(a: object, b: object): string[] {
  return [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
}

function list(value: unknown): string {
  return Array.isArray(value) ? (value.length ? value.join(', ') : '(none)') : show(value);
}

function show(value: unknown): string {
  if (value === undefined || value === null) return '(none)';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function lineCountChange(before: string, after: string): string {
  let added = 0;
  let removed = 0;
  for (const part of diffArrays(before.split('\n'), after.split('\n'))) {
    if (part.added) added += part.value.length;
    else if (part.removed) removed += part.value.length;
  }
  return `+${added} −${removed} lines`;
}
