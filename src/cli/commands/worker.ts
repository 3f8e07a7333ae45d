/** `twelve worker`: claim and run threads in the background until SIGTERM (drains, then exits 0). */
import { TwelveError } from '../../errors.js';
import { trapShutdownSignals } from '../../worker/shutdown-signals.js';
import { exitCodes, expectArgs, type CommandSpec } from '../command.js';

export const worker: CommandSpec = {
  name: 'worker',
  summary: 'run threads in the background until SIGTERM',
  usage: ['worker [--concurrency n]'],
  flags: { concurrency: 'threads run at once by this process (default TWELVE_WORKER_CONCURRENCY, 4)' },
  details:
    'Run as many as you like against one PostgreSQL (TWELVE_DATABASE_URL). On SIGTERM or Ctrl-C a worker stops\nclaiming, lets steps in flight finish within TWELVE_SHUTDOWN_GRACE_MS, releases its leases and exits 0 (at once\nif it is still starting). The grace period is a hard limit: a step still running after it is abandoned, and the\nprocess exits holding its lease, so the call never runs twice at once; another worker takes it over. A second\nsignal exits at once. Settings: TWELVE_WORKER_CONCURRENCY, TWELVE_POLL_MS, TWELVE_LEASE_MS.\n\nDuring a rolling deploy, old and new workers can share the database: a worker never steps a thread that a newer\nrelease of its agent already stepped (it logs how many it leaves to the newer workers). The first step of a new release on a\nthread records release_changed, and an incompatible move holds the thread for a person (see twelve deploy plan).',
  async run(args, flags) {
    // First, before anything loads: a SIGTERM during start-up exits 0 (src/worker/shutdown-signals.ts).
    const signals = trapShutdownSignals({ name: 'twelve worker', forcedExitCode: exitCodes.interrupted });
    expectArgs(args, 0, worker);
    const started = performance.now();
    const concurrency = flags.concurrency === undefined ? undefined : Number(flags.concurrency);
    if (concurrency !== undefined && (!Number.isInteger(concurrency) || concurrency <= 0)) {
      throw new TwelveError('usage', `--concurrency must be a positive integer, got "${flags.concurrency}"`);
    }
    const { requireAgents, makeRuntime } = await import('../local.js');
    const agents = await requireAgents(flags);
    const runtime = await makeRuntime(agents, { command: 'twelve worker', flags });
    const { worker: settings } = runtime.config;
    const running = runtime.startWorker({ concurrency: concurrency ?? settings.concurrency, pollMs: settings.pollMs });
    signals.running(() => `draining (steps in flight get ${settings.shutdownGraceMs} ms; again to force)`);
    process.stderr.write(
      `twelve worker ${runtime.owner}: ready in ${Math.round(performance.now() - started)} ms; ${agents.map((a) => a.name).join(', ')} on ${runtime.store.location}, concurrency ${concurrency ?? settings.concurrency}\n`,
    );
    await signals.requested;
    // The process is gone soon after the grace period, whatever still runs.
    signals.exitAfter(settings.shutdownGraceMs + 1_000, 0, 'still stopping 1 s after the grace period; exiting');
    const drained = await running.stop({ graceMs: settings.shutdownGraceMs });
    if (!drained) {
      // A step outlived the grace period and may still be running (a tool that ignores its signal):
      // exit now, its lease still held, so that no other worker starts the same call until this
      // process is gone (the store then sees this worker dead and another one takes over at once).
      process.stderr.write('twelve worker: stopped (steps still running after the grace period were abandoned; they run again elsewhere)\n');
      process.exit(0);
    }
    await runtime.close();
    signals.dispose();
    process.stderr.write('twelve worker: stopped\n');
    return 0;
  },
};
