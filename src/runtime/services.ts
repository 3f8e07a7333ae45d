/** What a ThreadSession needs from its runtime; one object, built once per runtime. */
import type { Redactor } from '../config/redact.js';
import type { Logger } from '../log/logger.js';
import type { ModelCaller } from '../model/call-model.js';
import type { Store } from '../store/types.js';
import type { Tracer } from '../telemetry/tracer.js';
import type { ThreadEvent } from '../thread/events.js';
import type { TenantConfig } from '../costs/tenants.js';
import type { ModelDelta } from '../stream/delta-bus.js';
import type { ChildThreads } from './child-threads.js';

export interface RuntimeServices {
  store: Store;
  models: ModelCaller;
  redactor: Redactor;
  /** What scrubs an agent's events before they are appended: secrets, plus the user's patterns when it has redactAtWrite. */
  writeRedactor(agent: string): Redactor;
  /** What scrubs what people and other systems see (logs, traces, API views): secrets plus the user's patterns. */
  viewRedactor: Redactor;
  logger: Logger;
  /** Who spend is attributed to, and their daily caps. */
  tenants: TenantConfig;
  /** Spans for segments, steps, model and tool calls; a no-op unless OTEL_* tracing variables are set. */
  tracer: Tracer;
  /** Whether the events that stop a thread are logged (see Runtime.logThreadEvents). */
  logThreadEvents(): boolean;
  /** Tool results over this many bytes are stored as blobs, the event keeping a preview (blobs/truncate-result.ts). */
  maxPayloadBytes: number;
  /** Hands a streamed model step's text to subscribers (stream/delta-bus.ts, and other processes through the relay). */
  publishDelta(delta: ModelDelta): void;
  /** Called with events right after they are durably appended. */
  emit(events: ThreadEvent[]): void;
  /** Launching, waking and cancelling child threads (agentTool). */
  children: ChildThreads;
}
