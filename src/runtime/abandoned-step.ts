/**
 * A tool run cut loose at shutdown, after the grace period, while it may still be running
 * (a tool that ignores ctx.signal cannot be stopped from outside). The session throws it
 * instead of recording anything; the runtime then keeps the thread's lease, renewed, until
 * `settled` (the run really ended) or until the process exits, so that no other worker can
 * start the same call while this run goes on. Internal control flow: it never reaches users.
 */
export class AbandonedStep extends Error {
  constructor(
    readonly threadId: string,
    readonly callId: string,
    /** Resolves when the abandoned run ends, however it ends. */
    readonly settled: Promise<void>,
  ) {
    super(`thread ${threadId}: the run of ${callId} was abandoned at shutdown and may still be running`);
    this.name = 'AbandonedStep';
  }
}
