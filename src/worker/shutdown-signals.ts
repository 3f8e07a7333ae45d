/**
 * SIGTERM and SIGINT for a long-running worker process (`twelve worker`).
 *
 * Installed first, before the agents, the config or the store load (a few hundred ms), so
 * that a process manager's SIGTERM during start-up does not kill the process by signal:
 * until the worker runs, the process holds nothing (no lease, no step), and it exits 0 at
 * once. Once it runs, the first signal asks for a drain and a second one exits at once
 * (the leases are then taken over by other workers; the store sees this process dead).
 *
 * After the drain's grace period the process must go, even if a step is still running: a
 * tool that ignores ctx.signal would otherwise run on beside the re-run another worker
 * starts. `exitAfter()` is that hard stop.
 */
export interface ShutdownSignals {
  /** Resolves with the first signal received after `running()`. */
  readonly requested: Promise<NodeJS.Signals>;
  /** The worker runs from now on: a signal drains (saying `message` on stderr) instead of exiting. */
  running(message: (signal: NodeJS.Signals) => string): void;
  /** Exits the process with `code` after `ms`, whatever is still running (the timer does not keep the process alive). */
  exitAfter(ms: number, code: number, message: string): void;
  /** Removes the handlers. */
  dispose(): void;
}

export function trapShutdownSignals(options: { name: string; forcedExitCode: number }): ShutdownSignals {
  let drainMessage: ((signal: NodeJS.Signals) => string) | undefined;
  let signals = 0;
  let resolveRequested: (signal: NodeJS.Signals) => void = () => undefined;
  const requested = new Promise<NodeJS.Signals>((resolve) => (resolveRequested = resolve));
  const onSignal = (signal: NodeJS.Signals) => {
    if (!drainMessage) {
      process.stderr.write(`${options.name}: ${signal} before the worker started; nothing to drain, exiting\n`);
      process.exit(0);
    }
    // Second signal: leave at once; our leases are taken over by other workers.
    if (++signals > 1) process.exit(options.forcedExitCode);
    process.stderr.write(`${options.name}: ${drainMessage(signal)}\n`);
    resolveRequested(signal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    requested,
    running(message) {
      drainMessage = message;
    },
    exitAfter(ms, code, message) {
      const timer = setTimeout(() => {
        process.stderr.write(`${options.name}: ${message}\n`);
        process.exit(code);
      }, ms);
      timer.unref();
    },
    dispose() {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}
