/** `twelve serve` (the HTTP API; workers run elsewhere) and the serving both it and `twelve dev` share. */
import { dirname, resolve } from 'node:path';
import { TwelveError } from '../../errors.js';
import { exitCodes, expectArgs, type CommandSpec, type Flags } from '../command.js';

export const serve: CommandSpec = {
  name: 'serve',
  summary: 'the HTTP API and web console (PORT, TWELVE_HOST, TWELVE_API_KEYS)',
  usage: ['serve'],
  flags: {},
  details:
    'Listens on TWELVE_HOST (default 127.0.0.1) and PORT (default 8080). Every endpoint but /healthz and /readyz needs an\nAPI key from TWELVE_API_KEYS ("name=role,role=key;..."; roles reader, operator, approver); /metrics needs a reader key.\nRun threads with twelve worker processes against the same TWELVE_DATABASE_URL. On SIGTERM /readyz answers 503 and the\nserver drains.',
  run: (args, flags) => serveProcess('serve', args, flags),
};

/** Serves the API (and, for dev, a worker and a signed-in console) until a signal. */
export async function serveProcess(command: 'serve' | 'dev', args: string[], flags: Flags): Promise<number> {
  expectArgs(args, 0, { name: command, usage: [command] });
  const { startServer, randomKey } = await import('../../server/serve.js');
  const { requireAgents, makeRuntime, projectConfigPath } = await import('../local.js');
  const agents = await requireAgents(flags);
  const dev = command === 'dev';
  const portText = process.env.PORT ?? (dev ? '4120' : '8080');
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new TwelveError('config_invalid', `PORT must be a port number, got "${portText}"`);
  const host = process.env.TWELVE_HOST ?? '127.0.0.1';
  const runtime = await makeRuntime(agents, { command: `twelve ${command}`, flags });
  // In dev with no keys configured, the console signs in with a fresh key of all roles, handed only to this machine.
  const keysConfigured = Boolean(process.env.TWELVE_API_KEYS?.trim());
  const bootKey = dev && !keysConfigured ? { key: randomKey(), name: process.env.TWELVE_USER ?? process.env.USER ?? 'developer' } : undefined;
  let server;
  try {
    const configPath = await projectConfigPath(flags);
    const projectDir = configPath ? dirname(resolve(configPath)) : undefined;
    server = await startServer({ runtime, host, port, console: true, ...(bootKey ? { bootKey } : {}), ...(projectDir ? { projectDir } : {}) });
  } catch (error) {
    await runtime.close();
    throw error;
  }
  const worker = dev ? runtime.startWorker({ concurrency: runtime.config.worker.concurrency, pollMs: runtime.config.worker.pollMs }) : undefined;
  process.stderr.write(`twelve ${command}: ${server.url}  (API ${server.url}/v1, OpenAPI ${server.url}/openapi.json${dev ? ', console and worker in this process' : ''})\n`);
  for (const note of server.notes) process.stderr.write(`  ${note}\n`);
  if (dev && keysConfigured) process.stderr.write('  console: TWELVE_API_KEYS is set, so no dev key is made: sign in with one of those keys\n');
  await new Promise<void>((resolve) => {
    let signals = 0;
    const onSignal = () => {
      if (++signals > 1) process.exit(exitCodes.interrupted);
      server.drain();
      process.stderr.write(`twelve ${command}: draining (again to force)\n`);
      resolve();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
  const drained = await worker?.stop({ graceMs: runtime.config.worker.shutdownGraceMs });
  await server.close();
  if (drained === false) process.exit(0); // a step outlived the grace period: exit holding its lease (see commands/worker.ts)
  await runtime.close();
  return 0;
}
