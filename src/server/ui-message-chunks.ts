/**
 * A thread as an AI SDK UI message stream (what `useChat` and `readUIMessageStream` consume):
 * one assistant message whose id is the thread id, built from the stored events (a model
 * call's text as a whole text part; each tool call as tool-input-available, then
 * tool-output-available or tool-output-error) and from live deltas while a model call streams
 * (text-start, text-delta..., closed by text-end when the stored event lands, with whatever
 * text the deltas missed). Since the message is rebuilt from the log, a reconnect simply
 * replays the stored part and continues live.
 */
import type { UIMessageChunk } from 'ai';
import type { ModelDelta } from '../stream/delta-bus.js';
import type { ThreadEvent } from '../thread/events.js';
import type { ThreadRecord } from '../store/types.js';

export class UiMessageChunks {
  /** The text part deltas are filling, if a model call is streaming. */
  private live: { seq: number; attempt: string; id: string; text: string } | undefined;

  constructor(private readonly threadId: string) {}

  start(): UIMessageChunk[] {
    return [{ type: 'start', messageId: this.threadId, messageMetadata: { threadId: this.threadId } }];
  }

  event(e: ThreadEvent): UIMessageChunk[] {
    const chunks: UIMessageChunk[] = [];
    const live = this.live;
    if (live && e.seq >= live.seq) {
      this.live = undefined;
      if (e.seq === live.seq && e.type === 'model_called' && e.data.text.startsWith(live.text)) {
        // The stored text is what was streamed plus what the deltas did not bring (a lost batch, the end).
        const rest = e.data.text.slice(live.text.length);
        if (rest) chunks.push({ type: 'text-delta', id: live.id, delta: rest });
        chunks.push({ type: 'text-end', id: live.id });
        return chunks;
      }
      chunks.push({ type: 'text-end', id: live.id });
    }
    switch (e.type) {
      case 'model_called': {
        const id = `text-${e.seq}`;
        if (e.data.text) chunks.push({ type: 'text-start', id }, { type: 'text-delta', id, delta: e.data.text }, { type: 'text-end', id });
        break;
      }
      case 'tool_requested':
      case 'tool_succeeded':
      case 'tool_failed':
        chunks.push(...this.toolParts(e));
        break;
      case 'thread_failed':
        chunks.push({ type: 'error', errorText: e.data.error.message });
        break;
      default:
        break;
    }
    return chunks;
  }

  delta(d: ModelDelta): UIMessageChunk[] {
    const chunks: UIMessageChunk[] = [];
    if (this.live && (this.live.seq !== d.seq || this.live.attempt !== d.attempt)) {
      // A retry (or a later step) starts over: the earlier attempt's text stays as it was sent.
      chunks.push({ type: 'text-end', id: this.live.id });
      this.live = undefined;
    }
    if (!this.live) {
      // Only from the beginning of the text: a reader that missed it waits for the stored event.
      if (d.offset !== 0) return chunks;
      this.live = { seq: d.seq, attempt: d.attempt, id: `text-${d.seq}-${d.attempt}`, text: '' };
      chunks.push({ type: 'text-start', id: this.live.id });
    }
    // Contiguous text only (an overlap is trimmed); after a gap the stored event brings the rest.
    const end = d.offset + d.text.length;
    if (d.offset > this.live.text.length || end <= this.live.text.length) return chunks;
    const text = d.text.slice(this.live.text.length - d.offset);
    this.live.text += text;
    chunks.push({ type: 'text-delta', id: this.live.id, delta: text });
    return chunks;
  }

  end(thread: ThreadRecord | undefined): UIMessageChunk[] {
    const chunks: UIMessageChunk[] = [];
    if (this.live) chunks.push({ type: 'text-end', id: this.live.id });
    this.live = undefined;
    const status = thread?.status ?? 'unknown';
    chunks.push({ type: 'finish', finishReason: status === 'completed' ? 'stop' : status === 'failed' ? 'error' : 'other', messageMetadata: { threadId: this.threadId, status } });
    return chunks;
  }

  private toolParts(e: ThreadEvent): UIMessageChunk[] {
    switch (e.type) {
      case 'tool_requested':
        return [{ type: 'tool-input-available', toolCallId: e.data.callId, toolName: e.data.tool, input: e.data.args ?? e.data.argsText ?? null }];
      case 'tool_succeeded':
        return [{ type: 'tool-output-available', toolCallId: e.data.callId, output: e.data.result }];
      case 'tool_failed':
        return [{ type: 'tool-output-error', toolCallId: e.data.callId, errorText: e.data.error.message }];
      default:
        return [];
    }
  }
}
