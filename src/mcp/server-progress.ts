/**
 * One line per event for MCP progress notifications: what a client (and the person watching
 * it) sees while an agent's thread advances. Events that add nothing a client could act on
 * (a tool's start after its request was already announced) say nothing.
 */
import type { ThreadEvent } from '../thread/events.js';

/** Describes the events of one thread in order; keeps the tool name of each call it has seen. */
export class ProgressText {
  private readonly tools = new Map<string, string>();

  describe(e: ThreadEvent): string | undefined {
    switch (e.type) {
      case 'thread_started':
        return `thread ${e.threadId} started (agent ${e.data.agent})`;
      case 'model_called': {
        for (const call of e.data.toolCalls) this.tools.set(call.callId, call.tool);
        const calls = e.data.toolCalls.map((call) => call.tool);
        return `model ${e.data.model} answered${calls.length ? `: calls ${calls.join(', ')}` : ''}`;
      }
      case 'model_failed':
        return `model call failed: ${e.data.error.message}`;
      case 'model_output_invalid':
        return `the model's answer was invalid (${e.data.error.message}); asking again`;
      case 'tool_requested':
        this.tools.set(e.data.callId, e.data.tool);
        return e.data.source === 'prefetch' ? `prefetch: ${e.data.tool}` : undefined;
      case 'tool_started':
        return `running tool ${this.tool(e.data.callId)}${e.data.attempt > 1 ? ` (attempt ${e.data.attempt})` : ''}`;
      case 'tool_succeeded':
        return `tool ${this.tool(e.data.callId)} succeeded`;
      case 'tool_failed':
        return `tool ${this.tool(e.data.callId)} failed: ${e.data.error.message}`;
      case 'tool_sleeping':
        return `tool ${this.tool(e.data.callId)} sleeps until ${e.data.until}${e.data.reason ? ` (${e.data.reason})` : ''}`;
      case 'approval_requested':
        this.tools.set(e.data.callId, e.data.tool);
        return `waiting for a person to approve ${e.data.tool}: ${e.data.reason}`;
      case 'approval_decided':
        return `${this.tool(e.data.callId)} ${e.data.approved ? 'approved' : 'rejected'} by ${e.data.by}${e.data.comment ? `: ${e.data.comment}` : ''}`;
      case 'human_asked':
        return `waiting for a person to answer: ${e.data.question}`;
      case 'human_answered':
        return `answered by ${e.data.by}`;
      case 'review_requested':
        return `waiting for a person to review the answer: ${e.data.reason}`;
      case 'review_decided':
        return `answer ${e.data.decision.replace('_', ' ')} by ${e.data.by}`;
      case 'budget_exceeded':
        return `budget exceeded: ${e.data.message}`;
      case 'budget_raised':
        return `budget changed by ${e.data.by}`;
      case 'blocked':
        return `blocked until the configuration is fixed: ${e.data.error.message}`;
      case 'escalated':
        return `escalated to a person: ${e.data.reason}`;
      case 'paused':
        return `paused by ${e.data.by}`;
      case 'resumed':
        return `resumed by ${e.data.by}`;
      case 'cancelled':
        return `cancelled by ${e.data.by}${e.data.reason ? `: ${e.data.reason}` : ''}`;
      case 'fallback_used':
        return `answered by the fallback (${e.data.reason})`;
      case 'thread_completed':
        return 'completed';
      case 'thread_failed':
        return `failed: ${e.data.error.message}`;
      default:
        return undefined;
    }
  }

  private tool(callId: string): string {
    return this.tools.get(callId) ?? callId;
  }
}
