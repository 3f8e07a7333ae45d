/** Human-readable rendering of events and threads for the terminal. */
import type { ModelAttemptFailure, ThreadEvent } from '../thread/events.js';
import type { ThreadRecord } from '../store/types.js';
import { approversText, budgetChangeText } from './describe-human.js';

const useColor = process.stdout.isTTY && !process.env.NO_COLOR;
const paint = (code: number) => (text: string) => (useColor ? `\u001b[${code}m${text}\u001b[0m` : text);
export const dim = paint(2);
export const bold = paint(1);
export const red = paint(31);
export const green = paint(32);
export const yellow = paint(33);
export const cyan = paint(36);

export function short(value: unknown, max = 160): string {
  const text = typeof value === 'string' ? JSON.stringify(value) : JSON.stringify(value ?? null);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** Plain text cut to `max` characters (short() quotes it as JSON). */
function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

export function usd(value: number | null | undefined): string {
  if (value === null || value === undefined) return 'price unknown';
  return `$${value < 0.01 ? value.toFixed(5) : value.toFixed(4)}`;
}

/** What a thread's totals need for its spend (a store record, or a thread from the HTTP API). */
export interface ThreadCostView {
  /** null when some call had no known price. */
  costUsd: number | null;
  pricedCostUsd?: number;
  unpricedCalls?: number;
  modelSteps: number;
}

/**
 * A thread's spend. Calls with no known price make it unknown, never $0: `short` (lists)
 * says "price unknown (2 calls)"; the long form also says what the priced calls cost.
 */
export function threadCost(thread: ThreadCostView, options: { short?: boolean } = {}): string {
  const unpriced = thread.unpricedCalls ?? 0;
  if (unpriced === 0 && thread.costUsd !== null) return usd(thread.costUsd);
  const calls = (n: number) => `${n} call${n === 1 ? '' : 's'}`;
  if (options.short || unpriced === 0) return unpriced === 0 ? 'price unknown' : `price unknown (${calls(unpriced)})`;
  const priced = thread.modelSteps - unpriced;
  const others = priced > 0 && thread.pricedCostUsd !== undefined ? `; the other ${calls(priced)} ${usd(thread.pricedCostUsd)}` : '';
  return `price unknown (${unpriced} of ${calls(thread.modelSteps)} had no known price${others})`;
}

/**
 * The prompt-cache part of a token count, only the nonzero parts: " (1024 cached, 150 written)",
 * or "" for a call that touched no cache (and for records from before cache tokens were kept).
 */
export function cacheText(tokens: { cachedInputTokens?: number; cacheWriteTokens?: number }): string {
  const parts = [tokens.cachedInputTokens ? `${tokens.cachedInputTokens} cached` : '', tokens.cacheWriteTokens ? `${tokens.cacheWriteTokens} written` : ''].filter(Boolean);
  return parts.length ? ` (${parts.join(', ')})` : '';
}

/** "850 ms", "2.31 s". */
function duration(ms: number): string {
  return ms < 1_000 ? `${Math.round(ms)} ms` : `${(ms / 1_000).toFixed(2)} s`;
}

/** One line per failed attempt of a model step (each 500, each timeout), under the step's line. */
function attemptLines(failures: readonly ModelAttemptFailure[]): string {
  return failures
    .map((f) => `\n${' '.repeat(20)}${red('✗')} ${dim(`attempt ${f.attempt}`)} ${f.model}: ${f.error}${f.latencyMs !== undefined ? dim(`  ${duration(f.latencyMs)}`) : ''}`)
    .join('');
}

/** One line (sometimes two) per event. Tool names come from the request events seen so far. */
export class EventFormatter {
  private readonly tools = new Map<string, string>();
  /** Calls the runtime asked about ("did it happen?"): their answers read as findings, not text. */
  private readonly unconfirmed = new Set<string>();

  format(event: ThreadEvent): string {
    const seq = dim(String(event.seq).padStart(4));
    const line = (label: string, text: string) => `${seq}  ${label.padEnd(12)} ${text}`;
    switch (event.type) {
      case 'thread_started':
        return line(cyan('started'), `${event.data.agent}  input ${short(event.data.input, 120)}`);
      case 'model_called': {
        const d = event.data;
        const calls = d.toolCalls.length ? `  → ${d.toolCalls.map((c) => c.tool).join(', ')}` : '';
        const retry = d.attempt > 1 || d.fallbackIndex > 0 ? yellow(`  attempt ${d.attempt}${d.fallbackIndex ? `, fallback #${d.fallbackIndex}` : ''}`) : '';
        const text = d.text && d.toolCalls.length ? `\n${' '.repeat(20)}${dim(short(d.text, 140))}` : '';
        const failures = d.failures ?? [];
        // With retries, the step took longer than its last attempt: say how long, and show every failed attempt.
        const total = failures.length > 0 ? yellow(`  step ${d.totalLatencyMs !== undefined ? duration(d.totalLatencyMs) : '?'} with ${failures.length} failed attempt${failures.length === 1 ? '' : 's'}`) : '';
        return line(cyan('model'), `${d.model}  ${d.usage.inputTokens}→${d.usage.outputTokens} tok${cacheText(d.usage)}  ${usd(d.costUsd)}  ${Math.round(d.latencyMs)} ms${calls}${retry}${total}${text}${attemptLines(failures)}`);
      }
      case 'model_failed': {
        const d = event.data;
        const total = d.totalLatencyMs !== undefined ? dim(`  step ${duration(d.totalLatencyMs)}`) : '';
        return line(red('model error'), `${d.error.message}${total}${attemptLines(d.failures)}`);
      }
      case 'model_output_invalid':
        return line(yellow('bad answer'), `${event.data.error.code}: ${event.data.error.message}`);
      case 'tool_requested':
        this.tools.set(event.data.callId, event.data.tool);
        return line(event.data.source === 'prefetch' ? 'prefetch' : 'tool call', `${event.data.tool} ${event.data.argsText ?? short(event.data.args, 140)}`);
      case 'tool_started':
        return line(dim('tool run'), dim(`${this.tools.get(event.data.callId) ?? event.data.callId}  attempt ${event.data.attempt}  key ${event.data.idempotencyKey}`));
      case 'tool_succeeded': {
        const how = event.data.replayed ? `${event.data.replayed} result, not run` : `${Math.round(event.data.durationMs)} ms`;
        return line(green('tool result'), `${this.tools.get(event.data.callId) ?? event.data.callId} ${short(event.data.result, 140)}  ${dim(how)}`);
      }
      case 'tool_failed': {
        const how = event.data.replayed ? dim(`  ${event.data.replayed} result, not run`) : '';
        return line(red('tool error'), `${this.tools.get(event.data.callId) ?? event.data.callId} ${event.data.error.code}: ${event.data.error.message}${how}`);
      }
      case 'escalated':
        return line(yellow('escalated'), event.data.reason);
      case 'blocked':
        return line(red('blocked'), `${event.data.error.code}: ${event.data.error.message}`);
      case 'approval_requested': {
        const who = approversText(event.data);
        const deadline = event.data.deadline ? `; ${event.data.onTimeout} at ${event.data.deadline} if nobody decides` : '';
        return line(yellow('approval?'), `${event.data.tool} ${short(event.data.args, 120)}: ${event.data.reason}${who}${deadline}`);
      }
      case 'approval_decided': {
        const verdict = event.data.approved ? green('approved') : red('rejected');
        return line(event.data.approved ? green('approved') : red('rejected'), `${this.tools.get(event.data.callId) ?? event.data.callId} ${verdict} by ${event.data.by}${event.data.comment ? `: ${short(event.data.comment, 140)}` : ''}`);
      }
      case 'human_asked':
        if (event.data.about === 'interrupted_tool') {
          this.unconfirmed.add(event.data.callId);
          return line(yellow(bold('happened?')), `${event.data.question}\n${' '.repeat(20)}${dim(`answer: ${(event.data.options ?? []).join(' | ')}  (urgency ${event.data.urgency})`)}`);
        }
        return line(yellow('question'), `${event.data.question}${event.data.options ? `  [${event.data.options.join(' | ')}]` : ''}  ${dim(`urgency ${event.data.urgency}`)}`);
      case 'human_answered':
        if (this.unconfirmed.has(event.data.callId)) {
          const tool = this.tools.get(event.data.callId) ?? event.data.callId;
          const comment = event.data.comment ? `: ${short(event.data.comment, 140)}` : '';
          const by = dim(`by ${event.data.by}`);
          if (event.data.answer === 'happened') return line(green('confirmed'), `${tool} happened${comment}  ${by}`);
          if (event.data.answer === 'did not happen') return line(yellow('confirmed'), `${tool} did not happen${comment}  ${by}`);
          return line(cyan('retry'), `${tool} runs again (fresh attempts, same key)${comment}  ${by}`);
        }
        return line(green('answer'), `${short(event.data.answer, 160)}  ${dim(`by ${event.data.by}`)}`);
      case 'tool_sleeping':
        return line(dim('sleeping'), `${this.tools.get(event.data.callId) ?? event.data.callId} until ${event.data.until}${event.data.reason ? `: ${event.data.reason}` : ''}`);
      case 'budget_exceeded':
        return line(yellow('budget'), `${event.data.limit}: ${event.data.message}`);
      case 'budget_raised': {
        return line(cyan('budget'), `${budgetChangeText(event.data)}${event.data.comment ? `; ${short(event.data.comment, 120)}` : ''}`);
      }
      case 'release_changed': {
        const d = event.data;
        const changes = d.changes.length ? `; ${short(d.changes.map((c) => c.detail).join('; '), 160)}` : '';
        const label = d.decision === 'hold' ? yellow('release') : cyan('release');
        return line(label, `${d.from} → ${d.to}  ${d.compatible ? 'compatible' : 'incompatible'}, ${d.decision === 'hold' ? 'held for a person' : 'continues'}: ${d.reason}${changes}`);
      }
      case 'thread_forked': {
        const d = event.data;
        const what = d.shadow ? `replay of ${d.shadow.replayOf}, forked from ${d.from} at seq ${d.atSeq}` : `forked from ${d.from} at seq ${d.atSeq}`;
        return line(cyan('forked'), `${what}  ${dim(`by ${d.by}`)}`);
      }
      case 'paused':
        return line(yellow('paused'), `by ${event.data.by}${event.data.reason ? `: ${event.data.reason}` : ''}`);
      case 'cancelled':
        return line(red(bold('cancelled')), `by ${event.data.by}${event.data.reason ? `: ${event.data.reason}` : ''}`);
      case 'resumed':
        return line(cyan('resumed'), `by ${event.data.by}${event.data.comment ? `: ${short(event.data.comment, 140)}` : ''}`);
      case 'review_requested': {
        const d = event.data;
        const confidence = d.confidence !== undefined ? `  confidence ${d.confidence}` : '';
        const from = d.source === 'fallback' ? '  (fallback answer)' : '';
        return line(yellow('review'), `${d.reason}${confidence}${from}  ${dim(short(d.output, 200))}`);
      }
      case 'review_decided': {
        const d = event.data;
        const detail = d.feedback ? `: ${short(d.feedback, 200)}` : d.comment ? `: ${short(d.comment, 200)}` : '';
        const edited = d.decision === 'edited' ? `  ${dim(short(d.output, 200))}` : '';
        const label = d.decision === 'rejected' ? red('reviewed') : d.decision === 'sent_back' ? yellow('reviewed') : green('reviewed');
        return line(label, `${d.decision.replace('_', ' ')} by ${d.by}${detail}${edited}`);
      }
      case 'child_started':
        return line(cyan('child'), `${this.tools.get(event.data.callId) ?? event.data.callId} → thread ${event.data.childThreadId} (${event.data.agent})`);
      case 'child_finished': {
        const d = event.data;
        const label = d.status === 'completed' ? green('child done') : red('child done');
        return line(label, `thread ${d.childThreadId} ${d.status}  ${d.inputTokens}→${d.outputTokens} tok${cacheText(d)}  ${usd(d.costUsd)}`);
      }
      case 'fallback_used':
        return line(yellow('fallback'), `non-LLM fallback answered (${event.data.reason.replace('_', ' ')}): ${clip(event.data.detail, 200)}`);
      case 'thread_completed': {
        const d = event.data;
        const from = d.source === 'fallback' ? 'answered by the non-LLM fallback' : d.source === 'review' ? 'as edited by a reviewer' : '';
        const extra = [d.confidence !== undefined ? `confidence ${confidenceText(d.confidence)}` : '', from, d.reviewedBy ? `reviewed by ${d.reviewedBy}` : '']
          .filter(Boolean)
          .join(', ');
        return line(green(bold('completed')), `${short(d.output, 400)}${extra ? dim(`  (${extra})`) : ''}`);
      }
      case 'thread_failed':
        return line(red(bold('failed')), `${event.data.error.code}: ${event.data.error.message}`);
      case 'message_added':
        return line(cyan('message'), `${event.data.by}: ${clip(event.data.text, 400)}`);
    }
  }
}

export function statusText(status: string): string {
  if (status === 'completed') return green(status);
  if (status === 'failed') return red(status);
  if (status === 'cancelled') return red(status);
  if (status === 'awaiting_approval' || status === 'awaiting_human' || status === 'awaiting_review' || status === 'awaiting_child' || status === 'paused') return yellow(status);
  return cyan(status);
}

/** The fields of a thread the header shows (a store record, or a thread from the HTTP API). */
export type ThreadSummaryView = Pick<ThreadRecord, 'id' | 'status' | 'agent' | 'releaseId' | 'createdAt' | 'updatedAt' | 'modelSteps' | 'inputTokens' | 'outputTokens' | 'waitingReason' | 'output' | 'error'> &
  ThreadCostView & {
    /** Absent from a server older than prompt caching. */
    cachedInputTokens?: number;
    cacheWriteTokens?: number;
    confidence?: number | null;
    /** A child thread's parent (agentTool), and a parent's children, when known. */
    parentThreadId?: string | null;
    children?: Array<{ id: string; agent: string; status: string }>;
  };

/** `fallback`: the non-LLM fallback answered (from the thread's fallback_used event), and why. */
export function threadHeader(thread: ThreadSummaryView, fallback?: { reason: string; detail: string }): string {
  const lines = [
    `${bold(thread.id)}  ${statusText(thread.status)}`,
    `  agent    ${thread.agent}   release ${thread.releaseId}`,
    `  created  ${thread.createdAt}   updated ${thread.updatedAt}`,
    `  usage    ${thread.modelSteps} model steps, ${thread.inputTokens}→${thread.outputTokens} tokens${cacheText(thread)}, ${threadCost(thread)}`,
  ];
  if (thread.parentThreadId) lines.push(`  parent   ${thread.parentThreadId}  (this thread answers one of its tool calls)`);
  for (const [index, child] of (thread.children ?? []).entries()) lines.push(`  ${index === 0 ? 'children' : '        '} ${child.id}  ${child.agent}  ${statusText(child.status)}`);
  if (thread.waitingReason) lines.push(`  waiting  ${yellow(thread.waitingReason)}`);
  if (thread.status === 'completed') lines.push(`  output   ${short(thread.output, 400)}`);
  if (thread.confidence !== null && thread.confidence !== undefined) lines.push(`  confidence ${confidenceText(thread.confidence)}`);
  if (fallback) lines.push(`  ${yellow(`answered by the non-LLM fallback (${fallback.reason.replace('_', ' ')})`)}: ${clip(fallback.detail, 200)}`);
  if (thread.error) lines.push(`  error    ${red(`${thread.error.code}: ${thread.error.message}`)}`);
  return lines.join('\n');
}

/** A confidence as people read it: 0.4 → "0.40". */
export function confidenceText(value: number): string {
  return value.toFixed(2);
}

export function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => stripAnsi(row[column] ?? '').length)));
  return rows.map((row) => row.map((cell, column) => cell + ' '.repeat(widths[column]! - stripAnsi(cell).length)).join('  ').trimEnd()).join('\n');
}

function stripAnsi(text: string): string {
  return text.replace(/\u001b\[\d+m/g, '');
}

/** `twelve threads show`: the header, then one line per event with its time offset and release changes. */
export function renderTimeline(thread: Parameters<typeof threadHeader>[0], events: readonly ThreadEvent[]): string {
  const formatter = new EventFormatter();
  const start = Date.parse(events[0]?.at ?? thread.createdAt);
  const fallback = events.find((e) => e.type === 'fallback_used')?.data as { reason: string; detail: string } | undefined;
  const lines = [threadHeader(thread, fallback), ''];
  let release = '';
  for (const event of events) {
    if (event.releaseId !== release) {
      release = event.releaseId;
      lines.push(dim(`        release ${release}`));
    }
    lines.push(`${dim(`+${((Date.parse(event.at) - start) / 1000).toFixed(3)}s`.padStart(10))}${formatter.format(event)}`);
  }
  return lines.join('\n');
}
