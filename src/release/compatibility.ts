/**
 * Whether a thread in flight can move from the release that last stepped it to another one
 * without meeting something the new code cannot honour: every open call's tool still exists
 * with the same input schema, every pending approval's policy is the same or tighter, and the
 * output schema still accepts what the old one did. Anything it cannot be sure of counts as
 * incompatible, with the reason said. Pure: no I/O (the caller reads both manifests).
 */
import type { ThreadState } from '../thread/state.js';
import { stableStringify } from '../util/stable-json.js';
import { approvalRank } from './diff.js';

type Manifest = Record<string, unknown>;
type Json = Record<string, unknown>;

export interface Compatibility {
  compatible: boolean;
  /** Why not, one readable line each (empty when compatible). */
  reasons: string[];
}

/** What of the thread matters to a move: its open calls and their approvals (a ThreadState has it). */
export type ThreadInFlight = Pick<ThreadState, 'openCalls' | 'calls'>;

/**
 * @example
 * checkCompatibility(state, oldRelease?.manifest, release.manifest)
 * // { compatible: false, reasons: ['open call c1 (refund): the tool input schema changed (tool refund input.amountCents: type "number" → "string")'] }
 */
export function checkCompatibility(thread: ThreadInFlight, before: Manifest | undefined, after: Manifest): Compatibility {
  if (!before) return { compatible: false, reasons: ['the manifest of the release that last stepped it is not in the store, so nothing can be checked'] };
  const reasons: string[] = [];
  const toolsBefore = toolSchemas(before.tools);
  const toolsAfter = toolSchemas(after.tools);
  const approvalsBefore = (before.approvals ?? {}) as Record<string, Json>;
  const approvalsAfter = (after.approvals ?? {}) as Record<string, Json>;
  for (const callId of thread.openCalls) {
    const call = thread.calls.get(callId);
    if (!call) continue;
    const where = `open call ${callId} (${call.tool})`;
    if (!(call.tool in toolsAfter)) {
      reasons.push(`${where}: the tool is not in the new release`);
      continue;
    }
    if (!(call.tool in toolsBefore)) reasons.push(`${where}: the tool was not in the old release, so its schema cannot be compared`);
    else if (!same(toolsBefore[call.tool], toolsAfter[call.tool])) reasons.push(`${where}: the tool's input schema changed`);
    // Tools bound by configuration: a call requested against one implementation (sandbox) must not run against another (live).
    const boundBefore = ((before.toolBindings ?? {}) as Record<string, string>)[call.tool] ?? 'live';
    const boundAfter = ((after.toolBindings ?? {}) as Record<string, string>)[call.tool] ?? 'live';
    if (boundBefore !== boundAfter) reasons.push(`${where}: the tool's binding changed (${boundBefore} → ${boundAfter})`);
    if (call.approval && !call.approval.decision) {
      const predicate = (manifest: Manifest) => ((manifest.code ?? {}) as Json)[`approval.${call.tool}`];
      const looser = approvalLoosened(approvalsBefore[call.tool], approvalsAfter[call.tool], !same(predicate(before), predicate(after)));
      if (looser) reasons.push(`${where} waits for approval: ${looser}`);
    }
  }
  const output = outputRelaxation((before.output ?? null) as Json | null, (after.output ?? null) as Json | null);
  if (output) reasons.push(`output schema: ${output}`);
  return { compatible: reasons.length === 0, reasons };
}

/** Why the new approval policy of a tool is looser (or cannot be told apart), or undefined when it is the same or tighter. */
export function approvalLoosened(before: Json | undefined, after: Json | undefined, predicateChanged = false): string | undefined {
  if (!before || !after) return 'its approval policy is missing from a manifest';
  const rankBefore = approvalRank[String(before.policy)];
  const rankAfter = approvalRank[String(after.policy)];
  if (rankBefore === undefined || rankAfter === undefined) return `approval policy ${String(before.policy)} → ${String(after.policy)} cannot be compared`;
  if (rankAfter < rankBefore) return `approval policy ${String(before.policy)} → ${String(after.policy)} is looser`;
  if (rankAfter > rankBefore) return undefined;
  // Same policy: the deciders may only shrink. An empty list of roles and people means anyone.
  const deciders = (approval: Json) => [...((approval.approvers ?? []) as string[]).map((r) => `role ${r}`), ...((approval.people ?? []) as string[]).map((p) => `person ${p}`)];
  const [was, now] = [deciders(before), deciders(after)];
  if (now.length === 0 && was.length > 0) return `anyone may now decide (was: ${was.join(', ')})`;
  if (was.length > 0) {
    const added = now.filter((d) => !was.includes(d));
    if (added.length > 0) return `more people may decide (${added.join(', ')})`;
  }
  // A predicate edited in code may now ask less often: it cannot be told from its source.
  if (String(after.policy) === 'predicate' && predicateChanged) return 'its approval predicate changed in code (cannot tell whether it is tighter)';
  return undefined;
}

/**
 * Why `after` may reject a value `before` accepted, or undefined when it surely accepts
 * everything `before` did: the same schema, or a relaxation (same types, no new required
 * fields, no field removed, enums only grew, new fields optional, nothing else changed). A
 * conservative check: anything it does not understand (unions, formats, bounds that moved,
 * additionalProperties) is reported as a possible rejection.
 */
export function outputRelaxation(before: Json | null, after: Json | null, at = ''): string | undefined {
  const where = at || 'the output';
  if (same(before, after)) return undefined;
  if (!before) return `${where}: was free text, now a JSON schema`;
  if (!after) return `${where}: was a JSON schema, now free text`;
  if (!same(before.type, after.type)) return `${where}: type ${show(before.type)} → ${show(after.type)}`;
  if (!same(before.enum, after.enum)) {
    if (Array.isArray(before.enum) && after.enum === undefined) {
      // Any value of the type is now allowed: wider.
    } else if (!Array.isArray(before.enum) || !Array.isArray(after.enum)) return `${where}: allowed values ${show(before.enum)} → ${show(after.enum)}`;
    else {
      const grown = after.enum as unknown[];
      const lost = before.enum.filter((value) => !grown.some((other) => same(value, other)));
      if (lost.length > 0) return `${where}: no longer allows ${lost.map(show).join(', ')}`;
    }
  }
  const propsBefore = (before.properties ?? {}) as Record<string, Json>;
  const propsAfter = (after.properties ?? {}) as Record<string, Json>;
  const requiredBefore = new Set((before.required ?? []) as string[]);
  const newlyRequired = ((after.required ?? []) as string[]).filter((key) => !requiredBefore.has(key));
  if (newlyRequired.length > 0) return `${where}: ${newlyRequired.join(', ')} now required`;
  for (const key of Object.keys(propsBefore)) {
    const field = at ? `${at}.${key}` : key;
    if (!propsAfter[key]) return `${field}: removed (values that carry it may be refused)`;
    const inner = outputRelaxation(propsBefore[key]!, propsAfter[key]!, field);
    if (inner) return inner;
  }
  if (before.items || after.items) {
    if (!before.items || !after.items) return `${where}[]: item schema added or removed`;
    const inner = outputRelaxation(before.items as Json, after.items as Json, `${at || 'output'}[]`);
    if (inner) return inner;
  }
  const rest = (schema: Json) => {
    const { type: _type, enum: _enum, properties: _properties, required: _required, items: _items, ...other } = schema;
    return stableStringify(other);
  };
  if (rest(before) !== rest(after)) return `${where}: constraints changed (cannot tell whether they are wider)`;
  return undefined;
}

function toolSchemas(tools: unknown): Record<string, unknown> {
  const map: Record<string, unknown> = {};
  if (Array.isArray(tools)) for (const tool of tools as Array<{ name?: string; inputSchema?: unknown }>) if (tool?.name) map[tool.name] = tool.inputSchema ?? null;
  return map;
}

function same(a: unknown, b: unknown): boolean {
  return stableStringify(a ?? null) === stableStringify(b ?? null);
}

function show(value: unknown): string {
  return value === undefined || value === null ? '(none)' : JSON.stringify(value);
}
