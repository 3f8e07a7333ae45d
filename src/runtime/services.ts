/** What a ThreadSession needs from its runtime; one object, built once per runtime. */
import type { Redactor } from '../config/redact.js';
import type { Logger } from '../log/logger.js';
import type { ModelCaller } from '../model/call-model.js';
import type { Store } from '../store/types.js';
import type { Tracer } from '../telemetry/tracer.js';
import type { ThreadEvent } from '../thread/events.js';

export interface RuntimeServices {
  store: Store;
  models: ModelCaller;
  redactor: Redactor;
  logger: Logger;
  /** Spans for segments, steps, model and tool calls; a no-op unless OTEL_* tracing variables are set. */
  tracer: Tracer;
  /** Whether the events that stop a thread are logged (see Runtime.logThreadEvents). */
  logThreadEvents(): boolean;
  /** Called with events right after they are durably appended. */
  emit(events: ThreadEvent[]): void;
}
