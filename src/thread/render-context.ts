/**
 * renderContext: turns a thread's events into the messages a model sees. The result is
 * always a valid provider transcript: every tool call is followed by a result, with a
 * placeholder for a call that is still pending, so resuming after any pause or crash
 * never sends a dangling tool call. The builder is incremental (O(1) per event) so a
 * worker holding a thread never re-renders the whole log for each step.
 */
import type { LanguageModelV3Message, LanguageModelV3ToolResultOutput } from '@ai-sdk/provider';
import type { AgentRelease } from '../agent/release.js';
import type { ThreadEvent } from './events.js';
import { clipText } from './clip-text.js';
import { approximateTokens, fitWindow, omittedNote } from './context-window.js';
import { interruptedOutcome } from './interrupted-tool.js';
import { renderTemplate } from './template.js';

export type ContextMessage = LanguageModelV3Message;

type ToolCallPart = { type: 'tool-call'; toolCallId: string; toolName: string; input: unknown };

/** One assistant message with tool calls, and the tool message holding their results. */
class ToolTurn {
  readonly assistant: { role: 'assistant'; content: Array<{ type: 'text'; text: string } | ToolCallPart> };
  readonly calls: ToolCallPart[] = [];
  readonly results = new Map<string, LanguageModelV3ToolResultOutput>();
  private cached: ContextMessage | undefined;
  /** Set by ContextBuilder.messages() once this turn is in its flat list: where it sits, and the set to join on change. */
  flatIndex = -1;
  changed: Set<ToolTurn> | undefined;

  constructor(text: string) {
    this.assistant = { role: 'assistant', content: text ? [{ type: 'text', text }] : [] };
  }

  addCall(part: ToolCallPart): void {
    this.assistant.content.push(part);
    this.calls.push(part);
    this.cached = undefined;
    this.changed?.add(this);
  }

  setResult(callId: string, output: LanguageModelV3ToolResultOutput): void {
    this.results.set(callId, output);
    this.cached = undefined;
    this.changed?.add(this);
  }

  toolMessage(): ContextMessage {
    this.cached ??= {
      role: 'tool',
      content: this.calls.map((call) => ({
        type: 'tool-result' as const,
        toolCallId: call.toolCallId,
        toolName: call.toolName,
        output: this.results.get(call.toolCallId) ?? pendingResult,
      })),
    };
    return this.cached;
  }
}

/** Enough of a malformed argument text to see where it broke, without flooding the context. */
const maxQuotedArgs = 600;

const pendingResult: LanguageModelV3ToolResultOutput = { type: 'text', value: 'status: pending (no result has been recorded for this call yet)' };

export class ContextBuilder {
  private readonly entries: Array<ContextMessage | ToolTurn> = [];
  private readonly turnOfCall = new Map<string, ToolTurn>();
  private currentTurn: ToolTurn | undefined;
  private readonly startedCalls = new Set<string>();
  /** Calls the runtime asked a person about (did this interrupted external call happen?), by tool name. */
  private readonly unconfirmedCalls = new Map<string, string>();
  /** The raw argument text of calls whose arguments were not JSON (only those: few and short). */
  private readonly malformedArgs = new Map<string, string>();
  /** `entries` flattened to messages, kept between calls (entries are only ever appended). */
  private readonly flat: ContextMessage[] = [];
  private flattened = 0;
  /** Flattened turns whose tool message changed since the last messages() call. */
  private readonly changed = new Set<ToolTurn>();
  /** The output of a fallback answer waiting for review (a model's answer is in the context already). */
  private reviewedFallback: unknown;
  /** A conversation (thread/context-window.ts): entries always sent (system, first input), where each turn starts, the first turn kept. */
  private pinnedEntries = 0;
  private readonly turnStarts: number[] = [];
  private windowStart = 0;
  /** Each entry's index in `flat` (turn starts are looked up there). */
  private readonly flatIndexOfEntry: number[] = [];
  /** The completed answer when no model_called rendered it (a fallback's, a reviewer's edit): shown before the next message. */
  private unrenderedAnswer: unknown;

  constructor(private readonly release: AgentRelease) {}

  apply(event: ThreadEvent): void {
    this.applyEvent(event);
    // After every event, so the window is the same whichever step reads it (context-window.ts).
    if (this.turnStarts.length > 1) this.refitWindow();
  }

  private applyEvent(event: ThreadEvent): void {
    switch (event.type) {
      case 'thread_started': {
        const agent = this.release.agent;
        const input = event.data.input;
        const system = renderTemplate(agent.promptTemplate, {
          input,
          purpose: agent.purpose,
          agent: agent.name,
          tools: this.release.toolSpecs.map((tool) => `- ${tool.name}: ${tool.description}`).join('\n'),
        });
        if (system.trim()) this.entries.push({ role: 'system', content: system });
        this.entries.push(userText(typeof input === 'string' ? input : JSON.stringify(input, null, 2)));
        this.pinnedEntries = this.entries.length;
        this.turnStarts.push(this.entries.length);
        break;
      }
      case 'thread_completed':
        this.unrenderedAnswer = event.data.source === 'fallback' || event.data.source === 'review' ? event.data.output : undefined;
        break;
      case 'message_added': {
        // A conversation's next turn: the previous answer is already the last assistant message
        // (its model_called), unless the fallback or a reviewer's edit produced it.
        this.currentTurn = undefined;
        if (this.unrenderedAnswer !== undefined) {
          const answer = this.unrenderedAnswer;
          this.entries.push({ role: 'assistant', content: [{ type: 'text', text: typeof answer === 'string' ? answer : JSON.stringify(answer) }] });
        }
        this.unrenderedAnswer = undefined;
        this.turnStarts.push(this.entries.length);
        this.entries.push(userText(event.data.text));
        break;
      }
      case 'model_called': {
        if (event.data.toolCalls.length > 0) {
          this.currentTurn = new ToolTurn(event.data.text);
          this.entries.push(this.currentTurn);
        } else {
          this.currentTurn = undefined;
          this.entries.push({ role: 'assistant', content: [{ type: 'text', text: event.data.text }] });
        }
        break;
      }
      case 'tool_requested': {
        if (event.data.source === 'prefetch' && !this.currentTurn) {
          this.currentTurn = new ToolTurn('');
          this.entries.push(this.currentTurn);
        }
        const turn = this.currentTurn;
        if (!turn) break;
        // Providers need an object here (Anthropic refuses anything else, OpenAI rewrites it), so
        // malformed arguments are shown to the model with their error instead (tool_failed below).
        const input = event.data.args === null || event.data.args === undefined ? {} : event.data.args;
        turn.addCall({ type: 'tool-call', toolCallId: event.data.callId, toolName: event.data.tool, input });
        if (event.data.argsText !== undefined) this.malformedArgs.set(event.data.callId, event.data.argsText);
        this.turnOfCall.set(event.data.callId, turn);
        break;
      }
      case 'tool_succeeded':
        this.turnOfCall.get(event.data.callId)?.setResult(event.data.callId, resultOutput(event.data.result));
        break;
      case 'tool_failed': {
        // The model cannot fix arguments it never sees again: quote what it sent (clipped).
        const raw = this.malformedArgs.get(event.data.callId);
        const sent = raw === undefined ? '' : `\nThe arguments you sent (${raw.length} characters): ${clipText(raw, maxQuotedArgs)}`;
        this.turnOfCall.get(event.data.callId)?.setResult(event.data.callId, {
          type: 'error-text',
          value: `${event.data.error.code}: ${event.data.error.message}${sent}`,
        });
        break;
      }
      case 'model_output_invalid':
        // The rejected answer is already in the context: its model_called event rendered it.
        this.currentTurn = undefined;
        this.entries.push(userText(`Your answer was not accepted (${event.data.error.code}): ${event.data.error.message}. Answer again.`));
        break;
      case 'tool_started':
        this.startedCalls.add(event.data.callId);
        break;
      case 'approval_decided':
        if (!event.data.approved) {
          const byTimeout = event.data.by === 'timeout';
          const who = byTimeout ? (event.data.comment ?? 'nobody decided before the deadline') : `a human (${event.data.by}) rejected this call`;
          const why = event.data.comment && !byTimeout ? `: ${event.data.comment}` : '';
          // A call can have started before approval was required (a policy tightened after a crash): say so.
          const ran = this.startedCalls.has(event.data.callId)
            ? 'An earlier attempt started before approval was required and may have taken effect; it will not run again.'
            : 'It did not run.';
          this.turnOfCall.get(event.data.callId)?.setResult(event.data.callId, {
            type: 'error-text',
            value: `rejected: ${who}${why}. ${ran} Do not retry it unchanged.`,
          });
        }
        break;
      case 'human_asked':
        if (event.data.about === 'interrupted_tool') this.unconfirmedCalls.set(event.data.callId, this.toolOf(event.data.callId));
        break;
      case 'human_answered': {
        const tool = this.unconfirmedCalls.get(event.data.callId);
        if (tool !== undefined) {
          // The same outcome the reducer settles the call with; "retry" sets none (the next run does).
          const outcome = interruptedOutcome(tool, event.data);
          if (outcome === 'retry' || outcome === undefined) break;
          this.unconfirmedCalls.delete(event.data.callId);
          this.turnOfCall
            .get(event.data.callId)
            ?.setResult(event.data.callId, outcome.ok ? resultOutput(outcome.result) : { type: 'error-text', value: `${outcome.error.code}: ${outcome.error.message}` });
          break;
        }
        this.turnOfCall.get(event.data.callId)?.setResult(event.data.callId, resultOutput({ answer: event.data.answer, answeredBy: event.data.by }));
        break;
      }
      case 'budget_raised':
        if (event.data.comment) {
          this.currentTurn = undefined;
          this.entries.push(userText(`A human operator (${event.data.by}) says: ${event.data.comment}`));
        }
        break;
      case 'review_requested':
        // A fallback's answer was never in the context (no model_called wrote it): kept to quote if sent back.
        this.reviewedFallback = event.data.source === 'fallback' ? event.data.output : undefined;
        break;
      case 'review_decided':
        if (event.data.decision === 'sent_back') {
          this.currentTurn = undefined;
          const answer = this.reviewedFallback === undefined ? 'your answer' : `the answer ${clipText(JSON.stringify(this.reviewedFallback) ?? '', maxQuotedArgs)}`;
          this.entries.push(userText(`A reviewer (${event.data.by}) sent ${answer} back: ${(event.data.feedback ?? '').replace(/[.\s]+$/, '')}. Answer again.`));
        }
        this.reviewedFallback = undefined;
        break;
      case 'resumed':
        this.currentTurn = undefined;
        if (event.data.comment) this.entries.push(userText(`A human operator (${event.data.by}) says: ${event.data.comment}`));
        break;
      default:
        // Other events (tool_started, model_failed, escalated, terminal events) add nothing the model must see.
        break;
    }
  }

  /**
   * Moves the window's start when the kept turns overflow the agent's bounds; called only while
   * folding events (see context-window.ts), so the window is a function of the log.
   */
  private refitWindow(): void {
    const limits = this.release.limits;
    if (this.turnStarts.length < 2 || (limits.maxContextTokens === undefined && limits.maxTurns === undefined)) return;
    const sizeOf = (entry: ContextMessage | ToolTurn) =>
      entry instanceof ToolTurn ? cachedTokens(entry.assistant as ContextMessage) + cachedTokens(entry.toolMessage()) : cachedTokens(entry);
    let pinned = approximateTokens(omittedNote(this.turnStarts.length));
    for (let i = 0; i < this.pinnedEntries; i++) pinned += sizeOf(this.entries[i]!);
    // Only the kept turns are measured (dropped ones are never counted again): O(window) per step.
    const turnTokens = this.turnStarts.map((from, turn) => {
      if (turn < this.windowStart) return 0;
      const to = this.turnStarts[turn + 1] ?? this.entries.length;
      let tokens = 0;
      for (let i = from; i < to; i++) tokens += sizeOf(this.entries[i]!);
      return tokens;
    });
    this.windowStart = fitWindow(limits, this.windowStart, turnTokens, pinned);
  }

  private toolOf(callId: string): string {
    return this.turnOfCall.get(callId)?.calls.find((call) => call.toolCallId === callId)?.toolName ?? callId;
  }

  /** A fresh array (the caller may keep it); message objects are shared and must not be mutated. */
  messages(): ContextMessage[] {
    // Incremental, so a model step on a long thread costs O(new events), not O(log): refresh the
    // tool messages that changed, flatten the entries added since the last call, copy.
    for (const turn of this.changed) this.flat[turn.flatIndex + 1] = turn.toolMessage();
    this.changed.clear();
    for (; this.flattened < this.entries.length; this.flattened++) {
      const entry = this.entries[this.flattened]!;
      this.flatIndexOfEntry.push(this.flat.length);
      if (entry instanceof ToolTurn) {
        entry.flatIndex = this.flat.length;
        entry.changed = this.changed;
        this.flat.push(entry.assistant as ContextMessage, entry.toolMessage());
      } else {
        this.flat.push(entry);
      }
    }
    if (this.windowStart === 0) return this.flat.slice();
    const pinned = this.flatIndexOfEntry[this.pinnedEntries] ?? this.flat.length;
    const kept = this.flatIndexOfEntry[this.turnStarts[this.windowStart]!]!;
    return [...this.flat.slice(0, pinned), noteFor(this.windowStart), ...this.flat.slice(kept)];
  }
}

/**
 * Token estimates by message object, kept while its content keeps its length (an assistant
 * message of a tool turn grows in place as calls are added; a changed tool message is a new object).
 */
const tokenCache = new WeakMap<object, { length: number; tokens: number }>();
function cachedTokens(message: ContextMessage): number {
  const length = message.content.length;
  const hit = tokenCache.get(message);
  if (hit && hit.length === length) return hit.tokens;
  const tokens = approximateTokens(message);
  tokenCache.set(message, { length, tokens });
  return tokens;
}

/** The same note object for the same number of omitted turns (a stable prefix, and the token estimate's cache). */
const notes = new Map<number, ContextMessage>();
function noteFor(omitted: number): ContextMessage {
  let note = notes.get(omitted);
  if (!note) {
    note = omittedNote(omitted);
    notes.set(omitted, note);
  }
  return note;
}

function userText(text: string): ContextMessage {
  return { role: 'user', content: [{ type: 'text', text }] };
}

function resultOutput(result: unknown): LanguageModelV3ToolResultOutput {
  if (result === undefined) return { type: 'text', value: 'done (no result)' };
  if (typeof result === 'string') return { type: 'text', value: result };
  return { type: 'json', value: result as never };
}

/** The default context: every event folded through a fresh builder. */
export function defaultRenderContext(release: AgentRelease, events: readonly ThreadEvent[]): ContextMessage[] {
  const builder = new ContextBuilder(release);
  for (const event of events) builder.apply(event);
  return builder.messages();
}

/** The context the model sees: the agent's own renderContext when it has one. */
export function renderContext(release: AgentRelease, events: readonly ThreadEvent[]): ContextMessage[] {
  const defaultMessages = defaultRenderContext(release, events);
  const custom = release.agent.options.renderContext;
  return custom ? custom({ agent: release.agent, events, defaultMessages }) : defaultMessages;
}
