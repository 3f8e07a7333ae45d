/**
 * During a rolling deploy an old worker skips the threads a newer release already stepped
 * (no downgrade, filtered in the claim's SQL). Skipping must not be silent: this watch counts
 * them now and then (one grouped query, never per claim) and logs once per (agent, release)
 * at warn what this worker leaves to the workers on the newer release. The same look counts the
 * threads of agents this worker does not have at all, and names them once per agent.
 */
import { TwelveError, errorMessage } from '../errors.js';
import type { Logger } from '../log/logger.js';
import type { Store } from '../store/types.js';

export interface NewerReleaseWatchOptions {
  store: Store;
  logger: Logger;
  /** agent -> the release this worker runs. */
  releases: Record<string, string>;
  /** Regular look (default 30 s). */
  intervalMs?: number;
  /** Least time between two looks prompted by an idle claim (default 5 s). */
  idleMs?: number;
}

export class NewerReleaseWatch {
  private readonly warned = new Set<string>();
  private readonly timer: NodeJS.Timeout;
  private last = 0;
  private running: Promise<void> | undefined;

  constructor(private readonly options: NewerReleaseWatchOptions) {
    this.timer = setInterval(() => void this.check(), options.intervalMs ?? 30_000);
    this.timer.unref();
  }

  /** A claim found nothing: the skipped threads may be why, so look (at most every idleMs). */
  idle(): void {
    if (Date.now() - this.last >= (this.options.idleMs ?? 5_000)) void this.check();
  }

  check(): Promise<void> {
    this.running ??= this.look().finally(() => (this.running = undefined));
    return this.running;
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private async look(): Promise<void> {
    this.last = Date.now();
    const { store, logger, releases } = this.options;
    try {
      for (const row of await store.threadsOnNewerReleases(Object.values(releases))) {
        const key = `${row.agent}\n${row.releaseId}`;
        if (this.warned.has(key)) continue;
        this.warned.add(key);
        const own = releases[row.agent];
        logger.warn(
          { agent: row.agent, release: row.releaseId, ownRelease: own, threads: row.threads },
          `${row.threads} thread${row.threads === 1 ? '' : 's'} of ${row.agent} ${row.threads === 1 ? 'was' : 'were'} last stepped by newer release ${row.releaseId}; this worker runs ${own} and leaves them to workers on ${row.releaseId}`,
        );
      }
      // Threads of agents this worker does not have: its claims never take them, and nothing else
      // would say why they wait (a worker started with the wrong config, an agent renamed).
      for (const row of await store.threadsOfOtherAgents(Object.keys(releases))) {
        const key = `other\n${row.agent}`;
        if (this.warned.has(key)) continue;
        this.warned.add(key);
        logger.warn(
          { agent: row.agent, threads: row.threads, agents: Object.keys(releases) },
          `${row.threads} thread${row.threads === 1 ? '' : 's'} of agent ${row.agent} ${row.threads === 1 ? 'waits' : 'wait'} for a worker, and this one does not have ${row.agent} (it runs ${Object.keys(releases).join(', ') || 'no agents'}): start a worker whose config lists it`,
        );
      }
    } catch (error) {
      // An outage is reported once by the worker's own polls (worker/outage.ts): no second line for it here.
      if (TwelveError.is(error, 'store_unavailable')) logger.debug({ error: errorMessage(error) }, 'cannot count the threads left to newer releases');
      else logger.warn({ error: errorMessage(error) }, 'cannot count the threads left to newer releases');
    }
  }
}
