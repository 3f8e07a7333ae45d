/**
 * Tool calls in a shadow (replay) thread. Only pure tools run for real; any other call is
 * answered by the outcome its origin recorded for the same tool and arguments (stable JSON),
 * else by the tool's `fake`, else the shadow stops with `replay_stopped`: a replay must never
 * act on the world twice.
 */
import type { Tool, ToolContext } from '../agent/define-tool.js';
import { errorMessage } from '../errors.js';
import { event, type CompactError, type NewEvent, type ThreadEvent } from '../thread/events.js';
import type { ThreadState } from '../thread/state.js';
import { stableStringify } from '../util/stable-json.js';
import { compact, toJsonValue, zodIssues } from './compact-error.js';

/** `blob`: the origin's result was truncated (the preview is served; the full result stays in its blob). */
type Outcome = { ok: true; result: unknown; blob?: { ref: string; bytes: number } } | { ok: false; error: CompactError };

/** The origin's tool outcomes by tool name and arguments, in the order they were recorded. */
export class RecordedResults {
  private readonly byCall = new Map<string, Outcome[]>();

  constructor(readonly threadId: string, events: readonly ThreadEvent[]) {
    const calls = new Map<string, { key: string; started: boolean }>();
    for (const e of events) {
      if (e.type === 'tool_requested') calls.set(e.data.callId, { key: callKey(e.data.tool, e.data.args), started: false });
      else if (e.type === 'tool_started') {
        const call = calls.get(e.data.callId);
        if (call) call.started = true;
      } else if (e.type === 'tool_succeeded' || e.type === 'tool_failed') {
        const call = calls.get(e.data.callId);
        // Only outcomes of runs (or of earlier replays' served results): a call refused before it
        // ran (bad arguments, unknown tool) says nothing about what the tool returns.
        if (!call || (!call.started && !e.data.replayed)) continue;
        const outcome: Outcome = e.type === 'tool_succeeded' ? { ok: true, result: e.data.result, ...(e.data.blob ? { blob: e.data.blob } : {}) } : { ok: false, error: e.data.error };
        const list = this.byCall.get(call.key) ?? [];
        list.push(outcome);
        this.byCall.set(call.key, list);
      }
    }
  }

  /**
   * The outcome for the n-th call with these arguments (n counted from the shadow's own settled
   * calls, its copied prefix included, so the k-th call gets the origin's k-th outcome); the
   * last one recorded once they run out.
   */
  find(state: ThreadState, tool: string, args: unknown): Outcome | undefined {
    const key = callKey(tool, args);
    const list = this.byCall.get(key);
    if (!list) return undefined;
    let settled = 0;
    for (const call of state.calls.values()) if (call.outcome && callKey(call.tool, call.args) === key) settled += 1;
    return list[Math.min(settled, list.length - 1)];
  }
}

function callKey(tool: string, args: unknown): string {
  return `${tool}\u0000${stableStringify(args ?? null)}`;
}

export interface ShadowCall {
  callId: string;
  tool: Tool;
  input: unknown;
  args: unknown;
  ctx: ToolContext;
  state: ThreadState;
  recorded: RecordedResults;
}

/** The events that settle (or stop on) a call a shadow thread may not run for real. */
export async function shadowToolEvents(call: ShadowCall): Promise<NewEvent[]> {
  const { callId, tool } = call;
  const recorded = call.recorded.find(call.state, tool.name, call.args);
  if (recorded) {
    return [
      recorded.ok
        ? event('tool_succeeded', { callId, result: recorded.result, durationMs: 0, replayed: 'recorded', ...(recorded.blob ? { blob: recorded.blob } : {}) })
        : event('tool_failed', { callId, error: recorded.error, replayed: 'recorded' }),
    ];
  }
  if (tool.fake) {
    const started = performance.now();
    try {
      let result = await tool.fake(call.input as never, call.ctx);
      if (tool.output) {
        const checked = tool.output.safeParse(result);
        if (!checked.success) throw new Error(`the fake returned a result that fails the output schema: ${zodIssues(checked.error)}`);
        result = checked.data;
      }
      return [event('tool_succeeded', { callId, result: toJsonValue(result), durationMs: elapsed(started), replayed: 'fake' })];
    } catch (error) {
      return [event('tool_failed', { callId, error: compact('tool_error', `${tool.name}: ${errorMessage(error)}`), durationMs: elapsed(started), replayed: 'fake' })];
    }
  }
  const effect = tool.effect ?? 'external';
  return [
    replayStopped(
      `${tool.name} is not pure (effect ${effect}), ${call.recorded.threadId} recorded no result for these arguments, and it has no fake: a replay never runs it for real`,
    ),
  ];
}

/** The event that ends a shadow thread that cannot go on without acting on the world or a person. */
export function replayStopped(message: string): NewEvent {
  return event('thread_failed', { error: { code: 'replay_stopped', message } });
}

function elapsed(started: number): number {
  return Math.round((performance.now() - started) * 1000) / 1000;
}
