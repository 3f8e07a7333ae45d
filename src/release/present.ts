/**
 * Releases made readable: a "show" view of one release (prompt, tools with their schemas,
 * models, settings, limits, policies, effects) and a "diff" view of two releases of one agent
 * (the prompt as a unified line diff, then diffManifests' changes grouped by kind), each as
 * JSON (API, console, --json) and as text (the CLI). Pure: no I/O.
 */
import { structuredPatch } from 'diff';
import { diffManifests, type ReleaseChange, type ReleaseChangeKind } from './diff.js';
import type { ReleaseRecord } from './lookup.js';

type Json = Record<string, unknown>;

export interface ReleaseToolView {
  name: string;
  description: string;
  inputSchema: Json;
  /** The schema of the tool's result, when it declares one. */
  outputSchema: Json | null;
  effect: string;
  maxAttempts: number | null;
  approval: Json | null;
}

export interface ReleaseView {
  id: string;
  agent: string;
  createdAt: string | null;
  ordinal: number | null;
  current: boolean;
  purpose: string;
  prompt: string;
  models: string[];
  settings: Json;
  limits: Json;
  tools: ReleaseToolView[];
  outputSchema: Json | null;
  inputSchema: Json | null;
  prefetch: string[];
  onNewRelease: string;
  humanTools: unknown[];
  /** Hashes of the functions that shape behaviour (renderContext, predicates). */
  code: Record<string, string>;
  twelve: string;
  threadsByStatus: Record<string, number>;
  threads: number;
  /** Exactly what the release id hashes. */
  manifest: Json;
}

export interface PromptDiff {
  added: number;
  removed: number;
  /** `--- a` / `+++ b` / `@@ ... @@` hunks with three lines of context, as `diff -u` prints. */
  unified: string;
  hunks: { oldStart: number; oldLines: number; newStart: number; newLines: number; lines: string[] }[];
}

export interface ReleaseChangeGroup {
  group: ReleaseChangeGroupName;
  title: string;
  changes: ReleaseChange[];
}

export interface ReleaseDiffView {
  agent: string;
  from: ReleaseHeader;
  to: ReleaseHeader;
  same: boolean;
  /** null when the prompt template is the same. */
  prompt: PromptDiff | null;
  changes: ReleaseChange[];
  groups: ReleaseChangeGroup[];
}

export type ReleaseHeader = Pick<ReleaseView, 'id' | 'agent' | 'createdAt' | 'ordinal' | 'current'>;

export type ReleaseChangeGroupName = 'prompt' | 'models' | 'settings' | 'limits' | 'tools' | 'approvals' | 'schemas' | 'behaviour';

const groupOf: Record<ReleaseChangeKind, ReleaseChangeGroupName> = {
  prompt: 'prompt',
  purpose: 'prompt',
  model: 'models',
  settings: 'settings',
  limits: 'limits',
  tool_added: 'tools',
  tool_removed: 'tools',
  tool_description: 'tools',
  tool_input: 'tools',
  tool_output: 'tools',
  tool_behaviour: 'tools',
  tool_binding: 'tools',
  approval: 'approvals',
  review: 'approvals',
  output: 'schemas',
  input: 'schemas',
  prefetch: 'behaviour',
  human_tool: 'behaviour',
  on_new_release: 'behaviour',
  fallback: 'behaviour',
  confidence: 'behaviour',
  code: 'behaviour',
  twelve: 'behaviour',
};

const groupTitles: Record<ReleaseChangeGroupName, string> = {
  prompt: 'Prompt',
  models: 'Models',
  settings: 'Model settings',
  limits: 'Limits',
  tools: 'Tools',
  approvals: 'Approval policies',
  schemas: 'Agent input and output',
  behaviour: 'Other behaviour',
};

/** Manifests of older releases may lack newer fields: every read is defensive. */
export function releaseView(release: ReleaseRecord): ReleaseView {
  const m = release.manifest;
  const behaviour = (m.toolBehaviour ?? {}) as Record<string, Json>;
  const approvals = (m.approvals ?? {}) as Record<string, Json>;
  const tools = (Array.isArray(m.tools) ? (m.tools as Json[]) : []).map((tool): ReleaseToolView => {
    const name = String(tool.name);
    const b = behaviour[name] ?? {};
    return {
      name,
      description: String(tool.description ?? ''),
      inputSchema: (tool.inputSchema ?? {}) as Json,
      outputSchema: (b.output ?? null) as Json | null,
      effect: String(b.effect ?? 'external'),
      maxAttempts: typeof b.maxAttempts === 'number' ? b.maxAttempts : null,
      approval: approvals[name] ?? null,
    };
  });
  const threadsByStatus = release.threadsByStatus as Record<string, number>;
  return {
    id: release.id,
    agent: release.agent,
    createdAt: release.createdAt,
    ordinal: release.ordinal,
    current: release.current,
    purpose: String(m.purpose ?? ''),
    prompt: String(m.prompt ?? ''),
    models: Array.isArray(m.models) ? m.models.map(String) : [],
    settings: (m.settings ?? {}) as Json,
    limits: (m.limits ?? {}) as Json,
    tools,
    outputSchema: (m.output ?? null) as Json | null,
    inputSchema: (m.input ?? null) as Json | null,
    prefetch: Array.isArray(m.prefetch) ? m.prefetch.map(String) : [],
    onNewRelease: String(m.onNewRelease ?? 'auto'),
    humanTools: Array.isArray(m.humanTools) ? m.humanTools : [],
    code: (m.code ?? {}) as Record<string, string>,
    twelve: String(m.twelve ?? ''),
    threadsByStatus,
    threads: Object.values(threadsByStatus).reduce((sum, n) => sum + n, 0),
    manifest: m,
  };
}

export function releaseDiffView(from: ReleaseRecord, to: ReleaseRecord): ReleaseDiffView {
  const changes = diffManifests(from.manifest, to.manifest);
  const groups: ReleaseChangeGroup[] = [];
  for (const change of changes) {
    const group = groupOf[change.kind] ?? 'behaviour';
    let entry = groups.find((g) => g.group === group);
    if (!entry) groups.push((entry = { group, title: groupTitles[group], changes: [] }));
    entry.changes.push(change);
  }
  const order = Object.keys(groupTitles);
  groups.sort((a, b) => order.indexOf(a.group) - order.indexOf(b.group));
  const promptBefore = String(from.manifest.prompt ?? '');
  const promptAfter = String(to.manifest.prompt ?? '');
  return {
    agent: to.agent,
    from: header(from),
    to: header(to),
    same: changes.length === 0,
    prompt: promptBefore === promptAfter ? null : promptDiff(promptBefore, promptAfter, { from: from.id, to: to.id }),
    changes,
    groups,
  };
}

/**
 * A unified line diff of two prompt templates.
 * @example
 * promptDiff('Be brief.', 'Be kind.\nBe brief.', { from: 'rel_a', to: 'rel_b' }).unified
 * // '--- rel_a\n+++ rel_b\n@@ -1,1 +1,2 @@\n+Be kind.\n Be brief.'
 */
export function promptDiff(before: string, after: string, labels: { from: string; to: string }): PromptDiff {
  // Templates rarely end with a newline; giving both one keeps "\ No newline" noise out.
  const patch = structuredPatch(labels.from, labels.to, withNewline(before), withNewline(after), '', '', { context: 3 });
  const hunks = patch.hunks.map((hunk) => ({ oldStart: hunk.oldStart, oldLines: hunk.oldLines, newStart: hunk.newStart, newLines: hunk.newLines, lines: hunk.lines }));
  let added = 0;
  let removed = 0;
  const lines = [`--- ${labels.from}`, `+++ ${labels.to}`];
  for (const hunk of hunks) {
    lines.push(`@@ -${hunk.oldStart},${hunk.oldLines} +${hunk.newStart},${hunk.newLines} @@`, ...hunk.lines);
    for (const line of hunk.lines) {
      if (line.startsWith('+')) added++;
      else if (line.startsWith('-')) removed++;
    }
  }
  return { added, removed, unified: lines.join('\n'), hunks };
}

function withNewline(text: string): string {
  return text.endsWith('\n') ? text : `${text}\n`;
}

function header(release: ReleaseRecord): ReleaseHeader {
  return { id: release.id, agent: release.agent, createdAt: release.createdAt, ordinal: release.ordinal, current: release.current };
}

/** `twelve releases show`. */
export function renderReleaseText(view: ReleaseView): string {
  const out: string[] = [];
  out.push(`release ${view.id}${view.current ? '  (current: the code at hand makes it)' : ''}`);
  out.push(`agent     ${view.agent}${view.purpose ? `: ${view.purpose}` : ''}`);
  out.push(`created   ${view.createdAt ?? 'not yet in the store (no thread has run on it)'}${view.ordinal !== null ? `  (ordinal ${view.ordinal})` : ''}`);
  out.push(`threads   ${view.threads ? countsText(view.threadsByStatus) : 'none'} (whose latest step this release wrote)`);
  out.push(`models    ${view.models.join(' → fallback ') || '(none)'}`);
  out.push(`settings  ${pairs(view.settings)}`);
  out.push(`limits    ${pairs(view.limits)}`);
  out.push(`deploys   onNewRelease=${view.onNewRelease}`);
  if (view.prefetch.length) out.push(`prefetch  ${view.prefetch.join(', ')}`);
  out.push('', 'prompt:', indent(view.prompt || '(empty)'));
  out.push('', `tools (${view.tools.length}):`);
  for (const tool of view.tools) {
    const approval = tool.approval ? approvalText(tool.approval) : 'no approval';
    out.push(`  ${tool.name}: ${tool.description}`);
    out.push(`    effect ${tool.effect}${tool.maxAttempts !== null ? `, at most ${tool.maxAttempts} attempts` : ''}; ${approval}`);
    out.push(`    input  ${JSON.stringify(tool.inputSchema)}`);
    if (tool.outputSchema) out.push(`    output ${JSON.stringify(tool.outputSchema)}`);
  }
  if (!view.tools.length) out.push('  (none: the agent answers directly)');
  out.push('', `output schema: ${view.outputSchema ? JSON.stringify(view.outputSchema) : '(none: free text)'}`);
  if (view.inputSchema) out.push(`input schema:  ${JSON.stringify(view.inputSchema)}`);
  const code = Object.entries(view.code);
  if (code.length) out.push(`code hashes:   ${code.map(([k, v]) => `${k}=${v}`).join(', ')}`);
  if (view.twelve) out.push(`twelve ${view.twelve}`);
  return out.join('\n');
}

/** `twelve releases diff`. */
export function renderReleaseDiffText(view: ReleaseDiffView): string {
  const side = (h: ReleaseHeader) => `${h.id}${h.ordinal !== null ? ` (#${h.ordinal}${h.current ? ', current' : ''})` : h.current ? ' (current, not yet in the store)' : ''}`;
  const out = [`agent ${view.agent}: ${side(view.from)} → ${side(view.to)}`];
  if (view.same) {
    out.push('no differences: the two manifests are the same');
    return out.join('\n');
  }
  out.push(`${view.changes.length} change${view.changes.length === 1 ? '' : 's'}`);
  if (view.prompt) out.push('', `prompt (+${view.prompt.added} −${view.prompt.removed} lines):`, view.prompt.unified);
  for (const group of view.groups) {
    const lines = group.changes.filter((c) => c.kind !== 'prompt');
    if (!lines.length) continue;
    out.push('', `${group.title}:`, ...lines.map((c) => `  ${c.detail}`));
  }
  return out.join('\n');
}

export function countsText(counts: Record<string, number>): string {
  const entries = Object.entries(counts).filter(([, n]) => n > 0);
  return entries.length ? entries.map(([status, n]) => `${n} ${status}`).join(', ') : 'none';
}

function approvalText(approval: Json): string {
  const who = [...((approval.approvers as string[]) ?? []), ...((approval.people as string[]) ?? [])];
  const policy = String(approval.policy ?? 'never');
  if (policy === 'never') return 'no approval';
  return `approval ${policy}${who.length ? ` by ${who.join(', ')}` : ''}${approval.source && approval.source !== 'code' ? ` (set by ${approval.source})` : ''}`;
}

function pairs(values: Json): string {
  const entries = Object.entries(values).filter(([, v]) => v !== undefined && v !== null);
  return entries.length ? entries.map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`).join(' ') : '(defaults)';
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((line) => `  ${line}`)
    .join('\n');
}
