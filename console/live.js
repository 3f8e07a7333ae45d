/** Polling that never overlaps itself, skips hidden tabs, and stops when its view goes away. */
export function poll(fn, intervalMs) {
  let stopped = false;
  let timer;
  let running = false;
  let again = false; // now() was called during a run: that run may have read what changed before it
  const run = async () => {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    if (!document.hidden) {
      running = true;
      try {
        await fn();
      } catch {
        // fn reports its own errors; keep polling.
      } finally {
        running = false;
      }
    }
    if (stopped) return;
    clearTimeout(timer);
    if (again) {
      again = false;
      run();
    } else timer = setTimeout(run, intervalMs);
  };
  run();
  return {
    /** Runs now (e.g. right after the user acted), or right after the run in flight, and keeps the schedule. */
    now: () => {
      clearTimeout(timer);
      run();
    },
    stop: () => {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

/**
 * Errors while polling: show the first one, then stay quiet until a poll succeeds again,
 * so a server restart gives one toast, not one every two seconds.
 */
export function quietErrors(show) {
  let failing = false;
  return {
    ok: () => (failing = false),
    fail: (error) => {
      if (!failing) show(error);
      failing = true;
    },
  };
}
