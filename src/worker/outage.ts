/**
 * A store outage, said once: the first failure to reach the database is an error line, the
 * retries that follow (every poll, with backoff) are debug lines, and the first success
 * after it says the database is back and for how long it was gone. A worker loop that logs
 * every failed poll would bury the one line that matters; one that logs none is silent.
 */
import { TwelveError, errorMessage } from '../errors.js';
import type { Logger } from '../log/logger.js';

export class OutageLog {
  private since: number | undefined;
  private retries = 0;

  constructor(private readonly logger: Logger) {}

  /** True when `error` means the store cannot be reached (it is then logged, once per outage). */
  failed(error: unknown, backoffMs: number): boolean {
    if (!TwelveError.is(error, 'store_unavailable')) return false;
    if (this.since === undefined) {
      this.since = Date.now();
      this.retries = 0;
      this.logger.error({ error: errorMessage(error) }, 'cannot reach the database; retrying with backoff, and saying so here once it is back');
    } else {
      this.retries++;
      this.logger.debug({ error: errorMessage(error), retries: this.retries, backoffMs }, 'the database is still unreachable');
    }
    return true;
  }

  /** The store answered: ends the outage, if there was one. */
  ok(): void {
    if (this.since === undefined) return;
    const downMs = Date.now() - this.since;
    this.since = undefined;
    // warn, not info: it must show at the default level, next to the error it answers.
    this.logger.warn({ downMs, retries: this.retries }, `the database is reachable again, after ${(downMs / 1000).toFixed(1)} s`);
  }
}
