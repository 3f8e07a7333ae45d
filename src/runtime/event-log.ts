/**
 * The events that say a thread cannot go on by itself, logged as warnings and errors (one
 * line each on stderr by default), so a worker, `dev` or `consume` process is never silent
 * about them. Everything else is in the thread's log (and in TWELVE_LOG=json at info).
 */
import type { Logger } from '../log/logger.js';
import type { ThreadEvent } from '../thread/events.js';

export function logNotableEvents(logger: Logger, agent: string, events: readonly ThreadEvent[]): void {
  // The non-LLM fallback answered for the failure in the same commit (runtime/fallback.ts logs that): nobody waits.
  const answered = events.some((e) => e.type === 'fallback_used');
  for (const e of events) {
    if (answered && (e.type === 'blocked' || e.type === 'model_failed' || e.type === 'budget_exceeded')) continue;
    const fields = { threadId: e.threadId, agent, seq: e.seq };
    switch (e.type) {
      case 'blocked':
        logger.error({ ...fields, code: e.data.error.code }, `thread ${e.threadId} is blocked by its configuration and waits for a person: ${e.data.error.message}. Fix it, then: twelve resume ${e.threadId}`);
        break;
      case 'model_failed':
        logger.warn({ ...fields, error: e.data.error.message }, `thread ${e.threadId}: every model attempt failed; the next step tries again`);
        break;
      case 'escalated':
        logger.warn(fields, `thread ${e.threadId} escalated and waits for a person: ${e.data.reason}`);
        break;
      case 'budget_exceeded':
        logger.warn(fields, `thread ${e.threadId} reached its budget and waits for a person: ${e.data.message}`);
        break;
      case 'release_changed':
        if (e.data.decision === 'hold') {
          logger.warn({ ...fields, from: e.data.from, to: e.data.to }, `thread ${e.threadId} moved from release ${e.data.from} to ${e.data.to} and is held for a person: ${e.data.reason}. Then: twelve resume ${e.threadId} --as <you> --comment "<why>", or twelve cancel ${e.threadId}`);
        }
        break;
      case 'thread_failed':
        logger.error({ ...fields, code: e.data.error.code }, `thread ${e.threadId} failed: ${e.data.error.message}`);
        break;
      default:
        break;
    }
  }
}
