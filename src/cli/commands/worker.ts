/** `twelve worker`: claim and run threads in the background until SIGTERM (drains, then exits 0). */
import { TwelveError } from '../../errors.js';
import { exitCodes, expectArgs, type CommandSpec } from '../command.js';

export const worker: CommandSpec = {
  name: 'worker',
  summary: 'run threads in the background until SIGTERM',
  usage: ['worker [--concurrency n]'],
  flags: { concurrency: 'threads run at once by this process (default TWELVE_WORKER_CONCURRENCY, 4)' },
  details:
    'Run as many as you like against one PostgreSQL (TWELVE_DATABASE_URL). On SIGTERM or Ctrl-C a worker stops\nclaiming, lets steps in flight finish within TWELVE_SHUTDOWN_GRACE_MS, releases its leases and exits 0;\na second signal exits at once. Settings: TWELVE_WORKER_CONCURRENCY, TWELVE_POLL_MS, TWELVE_LEASE_MS.',
  async run(args, flags) {
    expectArgs(args, 0, worker);
    const started = performance.now();
    const concurrency = flags.concurrency === undefined ? undefined : Number(flags.concurrency);
    if (concurrency !== undefined && (!Number.isInteger(concurrency) || concurrency <= 0)) {
      throw new TwelveError('usage', `--concurrency must be a positive integer, got "${flags.concurrency}"`);
    }
    const { requireAgents, makeRuntime } = await import('../local.js');
    const agents = await requireAgents(flags);
    const runtime = await makeRuntime(agents);
    const { worker: settings } = runtime.config;
    let signals = 0;
    let onSignal: () => void = () => undefined;
    const stopping = new Promise<void>((resolve) => {
      onSignal = () => {
        // Second signal: leave at once; our leases expire and another worker resumes the threads.
        if (++signals > 1) process.exit(exitCodes.interrupted);
        process.stderr.write(`twelve worker: draining (steps in flight get ${settings.shutdownGraceMs} ms; again to force)\n`);
        resolve();
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
    });
    const running = runtime.startWorker({ concurrency: concurrency ?? settings.concurrency, pollMs: settings.pollMs });
    process.stderr.write(
      `twelve worker ${runtime.owner}: ready in ${Math.round(performance.now() - started)} ms; ${agents.map((a) => a.name).join(', ')} on ${runtime.store.location}, concurrency ${concurrency ?? settings.concurrency}\n`,
    );
    await stopping;
    const drained = await running.stop({ graceMs: settings.shutdownGraceMs });
    await runtime.close();
    process.stderr.write(`twelve worker: stopped${drained ? '' : ' (steps still running after the grace period were abandoned; they run again elsewhere)'}\n`);
    return 0;
  },
};
