/**
 * What stops a tool run: its timeout, or the worker's abort signal (shutdown past the grace
 * period). `race` rejects as soon as either fires, even if the tool ignores it; `signal` is
 * the AbortSignal the tool sees, made only when the tool reads ctx.signal: most tools never
 * do, and an AbortController plus AbortSignal.any per run was ~4% of a step's CPU with an
 * instant model (bench/steps.mjs profile). The timer is cleared as soon as the run ends
 * (AbortSignal.timeout would keep one alive per run for the whole timeout).
 */
export class ToolStop {
  private readonly timer: NodeJS.Timeout;
  private controller: AbortController | undefined;
  private rejectRace: ((reason: unknown) => void) | undefined;
  private reason: unknown;
  private fired = false;
  /** True once the timeout (not the outer signal) stopped the run. */
  timedOut = false;

  constructor(
    timeoutMs: number,
    private readonly outer: AbortSignal | undefined,
  ) {
    this.timer = setTimeout(() => {
      if (this.fired) return;
      this.timedOut = true;
      this.fire(new DOMException('The operation was aborted due to timeout', 'TimeoutError'));
    }, timeoutMs);
    this.timer.unref();
    if (outer?.aborted) this.fire(outer.reason);
    else outer?.addEventListener('abort', this.onOuterAbort, { once: true });
  }

  private readonly onOuterAbort = () => this.fire(this.outer!.reason);

  private fire(reason: unknown): void {
    if (this.fired) return;
    this.fired = true;
    this.reason = reason;
    this.controller?.abort(reason);
    this.rejectRace?.(reason);
  }

  /** The signal handed to the tool (ctx.signal): aborted by the timeout or the outer signal. */
  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.fired) this.controller.abort(this.reason);
    }
    return this.controller.signal;
  }

  /** The run's result, or a rejection with the stop's reason as soon as the run is stopped. */
  race<T>(run: Promise<T>): Promise<T> {
    if (this.fired) return Promise.reject(this.reason);
    return new Promise<T>((resolve, reject) => {
      this.rejectRace = reject;
      run.then(resolve, reject);
    });
  }

  clear(): void {
    clearTimeout(this.timer);
    this.outer?.removeEventListener('abort', this.onOuterAbort);
    this.rejectRace = undefined;
  }
}
