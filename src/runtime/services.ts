/** What a ThreadSession needs from its runtime; one object, built once per runtime. */
import type { Redactor } from '../config/redact.js';
import type { Logger } from '../log/logger.js';
import type { ModelCaller } from '../model/call-model.js';
import type { Store } from '../store/types.js';
import type { ThreadEvent } from '../thread/events.js';

export interface RuntimeServices {
  store: Store;
  models: ModelCaller;
  redactor: Redactor;
  logger: Logger;
  /** Whether the events that stop a thread are logged (see Runtime.logThreadEvents). */
  logThreadEvents(): boolean;
  /** Tool results over this many bytes are stored as blobs, the event keeping a preview (blobs/truncate-result.ts). */
  maxPayloadBytes: number;
  /** Called with events right after they are durably appended. */
  emit(events: ThreadEvent[]): void;
}
