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
  /** Called with events right after they are durably appended. */
  emit(events: ThreadEvent[]): void;
}
