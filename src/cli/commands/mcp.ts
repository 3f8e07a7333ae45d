/** `twelve mcp`: the project's agents as MCP tools, over stdio (default) or Streamable HTTP (--http). */
import { TwelveError } from '../../errors.js';
import { defaultUser, exitCodes, expectArgs, type CommandSpec, type Flags } from '../command.js';

export const mcp: CommandSpec = {
  name: 'mcp',
  summary: 'serve the agents as MCP tools (stdio, or Streamable HTTP with --http)',
  usage: ['mcp [--http [--host <address>] [--port <n>]] [--no-worker] [--concurrency n] [--max-wait <seconds>]'],
  flags: {
    http: 'serve Streamable HTTP at http://HOST:PORT/mcp instead of stdio (needs TWELVE_API_KEYS, like twelve serve)',
    host: 'with --http: the address to listen on (default TWELVE_HOST, else 127.0.0.1)',
    port: 'with --http: the port (default PORT, else 4130)',
    'no-worker': 'run no worker here: twelve worker processes on the same TWELVE_DATABASE_URL run the threads',
    concurrency: 'threads the worker in this process runs at once (default TWELVE_WORKER_CONCURRENCY, 4)',
    'max-wait': 'how long an agent tool waits for its thread before answering with its threadId and status (default 50)',
  },
  details:
    'Tools: <agent> runs the agent and returns its output (its input schema is the tool\'s; an agent that takes text takes {"input": "..."}),\n' +
    'sending progress notifications as the thread advances; when the thread waits for a person (approval, question, review)\n' +
    'or runs past --max-wait, it returns {threadId, status} instead. <agent>_launch returns the threadId at once.\n' +
    'thread_status {threadId, waitSeconds?} polls. People still decide with twelve approve / answer / review or the console.\n\n' +
    'Over stdio this is a local process like the rest of the CLI: no key, every role, launches recorded as TWELVE_USER\n' +
    '(or USER). Add it to an MCP client as the command `npx twelve mcp` run in the project folder. Nothing but MCP is\n' +
    'written to stdout; logs go to stderr. It exits when the client closes its stdin.\n\n' +
    'Threads run in a worker in this process (as with twelve dev) unless --no-worker; they are durable either way: a tool\n' +
    'call that ends (or a client that goes away) leaves the thread running, and twelve resume continues it after a stop.\n' +
    'Over HTTP the endpoint is stateless and takes the API\'s keys (Authorization: Bearer <key>): any key lists tools and\n' +
    'polls, launching needs the operator role. The HTTP API answers on the same port; twelve serve and twelve dev also\n' +
    'serve /mcp.',
  remoteHelp:
    'With TWELVE_URL and TWELVE_API_KEY set, twelve mcp bridges stdio to that server\'s /mcp endpoint: the server\'s workers run\nthe threads, launched as the key\'s owner (the key needs the operator role to launch). No worker runs here.',
  async run(args, flags) {
    expectArgs(args, 0, mcp);
    if (!flags.http && (flags.host !== undefined || flags.port !== undefined)) throw new TwelveError('usage', '--host and --port go with --http (over stdio nothing listens)');
    const waitMs = seconds(flags['max-wait'], '--max-wait') ?? undefined;
    const concurrency = flags.concurrency === undefined ? undefined : Number(flags.concurrency);
    if (concurrency !== undefined && (!Number.isInteger(concurrency) || concurrency <= 0)) throw new TwelveError('usage', `--concurrency must be a positive integer, got "${flags.concurrency}"`);
    if (concurrency !== undefined && flags['no-worker']) throw new TwelveError('usage', '--concurrency is for the worker in this process; --no-worker runs none');
    const { requireAgents, makeRuntime } = await import('../local.js');
    const agents = await requireAgents(flags);
    const runtime = await makeRuntime(agents, { command: 'twelve mcp', flags });
    const { worker: settings } = runtime.config;
    const worker = flags['no-worker'] ? undefined : runtime.startWorker({ concurrency: concurrency ?? settings.concurrency, pollMs: settings.pollMs });
    // A process that runs the threads refuses, before creating one, a launch whose models it cannot call.
    const mcpOptions = { ...(waitMs !== undefined ? { waitMs } : {}), checkModels: worker !== undefined };
    let stop: () => Promise<void>;
    try {
      stop = flags.http ? await serveHttp(runtime, flags, mcpOptions) : await serveStdio(runtime, mcpOptions);
    } catch (error) {
      await runtime.close();
      throw error;
    }
    await stopRequested();
    await stop();
    const drained = await worker?.stop({ graceMs: settings.shutdownGraceMs });
    if (drained === false) process.exit(0); // a step outlived the grace period: exit holding its lease (see commands/worker.ts)
    await runtime.close();
    return 0;
  },
  async remote(args, flags) {
    expectArgs(args, 0, mcp);
    const local = (['http', 'host', 'port', 'no-worker', 'concurrency', 'max-wait'] as const).filter((flag) => flags[flag] !== undefined);
    if (local.length) throw new TwelveError('usage', `with TWELVE_URL, twelve mcp only bridges stdio to ${process.env.TWELVE_URL}/mcp: ${local.map((f) => `--${f}`).join(', ')} apply to a local twelve mcp (unset TWELVE_URL)`);
    const apiKey = process.env.TWELVE_API_KEY;
    if (!apiKey) throw new TwelveError('config_invalid', `TWELVE_URL is set (${process.env.TWELVE_URL}), so twelve mcp bridges to that server: set TWELVE_API_KEY to one of its API keys`);
    const { bridgeStdioToHttp } = await import('../../mcp/server-bridge.js');
    const bridge = await bridgeStdioToHttp({ url: process.env.TWELVE_URL!, apiKey });
    process.stderr.write(`twelve mcp: stdio bridged to ${process.env.TWELVE_URL!.replace(/\/+$/, '')}/mcp\n`);
    await Promise.race([bridge.closed, stopRequested()]);
    await bridge.close();
    return 0;
  },
};

type Runtime = import('../../runtime/runtime.js').Runtime;
type McpOptions = { waitMs?: number; checkModels: boolean };

let ended: (() => void) | undefined;
const stopped = new Promise<void>((resolve) => (ended = resolve));

/** Resolves on the first SIGINT/SIGTERM or when stdio's client closes stdin; a second signal exits at once. */
function stopRequested(): Promise<void> {
  let signals = 0;
  const onSignal = () => {
    if (++signals > 1) process.exit(exitCodes.interrupted);
    process.stderr.write('twelve mcp: stopping (again to force)\n');
    ended?.();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return stopped;
}

async function serveStdio(runtime: Runtime, options: McpOptions): Promise<() => Promise<void>> {
  const { StdioServerTransport } = await import('@modelcontextprotocol/sdk/server/stdio.js');
  const { createMcpServer } = await import('../../mcp/server.js');
  // A local process like the rest of the CLI: whoever runs it has every role.
  const server = createMcpServer({ runtime, caller: { name: defaultUser(), roles: ['reader', 'operator', 'approver'] }, transport: 'stdio', ...options });
  // stdout carries the protocol: a tool's console.log must not break it (the transport writes to stdout itself).
  console.log = console.info = console.debug = console.error;
  process.stdin.once('end', () => ended?.());
  process.stdin.once('close', () => ended?.());
  await server.connect(new StdioServerTransport());
  process.stderr.write(`twelve mcp: ${runtime.agents.map((r) => r.agent.name).join(', ')} as MCP tools on stdio (store ${runtime.store.location}${options.checkModels ? ', worker in this process' : ', threads run by twelve worker elsewhere'})\n`);
  return () => server.close();
}

async function serveHttp(runtime: Runtime, flags: Flags, options: McpOptions): Promise<() => Promise<void>> {
  const portText = flags.port ?? process.env.PORT ?? '4130';
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new TwelveError('usage', `the port must be a port number, got "${portText}"`);
  const host = flags.host ?? process.env.TWELVE_HOST ?? '127.0.0.1';
  const { startServer } = await import('../../server/serve.js');
  const server = await startServer({ runtime, host, port, mcp: options });
  process.stderr.write(`twelve mcp: ${server.url}/mcp  (Streamable HTTP, keys from TWELVE_API_KEYS; launching needs operator${options.checkModels ? '; worker in this process' : ''})\n`);
  for (const note of server.notes) process.stderr.write(`  ${note}\n`);
  return async () => {
    server.drain();
    await server.close();
  };
}

function seconds(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) throw new TwelveError('usage', `${flag} must be a positive number of seconds, got "${text}"`);
  return Math.round(value * 1000);
}
