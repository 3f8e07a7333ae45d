/**
 * The `twelve` command line. Exit codes: 0 completed, 2 bad usage or config,
 * 3 thread failed, 4 waiting for a human, 130 interrupted (resume later).
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { TwelveError, errorMessage } from '../errors.js';
import { version } from '../version.js';
import type { Agent } from '../agent/define-agent.js';
import type { Runtime, RunOutcome } from '../runtime/runtime.js';
import type { ThreadEvent } from '../thread/events.js';
import { threadStatuses, type ThreadStatus } from '../thread/state.js';

export const exitCodes = { completed: 0, usage: 2, failed: 3, waiting: 4, interrupted: 130 } as const;

const help = `twelve ${version}: run single-purpose LLM agents as durable threads

Usage:
  twelve run <agent|path/to/agent.ts> --input <text|@file|->   launch a thread and run it, printing each step
  twelve resume <thread> [--as <who>] [--comment <text>]       continue an interrupted or escalated thread
  twelve threads ls [--status s1,s2] [--agent a] [--limit n]    list threads, newest first
  twelve threads show <thread>                                  the thread's whole timeline
  twelve agents ls                                              agents, their pinned models and release ids
  twelve worker [--concurrency n]                               run threads in the background until SIGTERM

Options:
  --json              one JSON object per line (events for run/resume/show)
  --config <file>     project config, or one agent file (default: twelve.config.ts found from the working directory up)
  -h, --help          this help
  -v, --version       the version

Environment: TWELVE_DATABASE_URL (default sqlite:.twelve/twelve.db), TWELVE_MODEL_MODE (live|record|replay),
TWELVE_LOG=json, OPENAI_API_KEY, ANTHROPIC_API_KEY, TWELVE_OPENAI_COMPATIBLE_BASE_URL, TWELVE_AGENT_<NAME>_MODEL ...
Exit codes: 0 completed, 2 bad usage or config, 3 failed, 4 waiting for a human, 130 interrupted.`;

const options = {
  input: { type: 'string', short: 'i' },
  json: { type: 'boolean' },
  config: { type: 'string' },
  status: { type: 'string' },
  agent: { type: 'string' },
  limit: { type: 'string' },
  as: { type: 'string' },
  comment: { type: 'string' },
  concurrency: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
} satisfies ParseArgsConfig['options'];

type Flags = { [K in keyof typeof options]?: (typeof options)[K]['type'] extends 'string' ? string : boolean };

export async function main(argv: string[]): Promise<number> {
  try {
    let parsed;
    try {
      parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
    } catch (error) {
      throw new TwelveError('usage', `${errorMessage(error)} (see twelve --help)`);
    }
    const flags = parsed.values as Flags;
    const [command, ...rest] = parsed.positionals;
    if (flags.version) return print(`twelve ${version}`);
    if (flags.help || !command || command === 'help') return print(help);
    switch (command) {
      case 'run':
        return await runCommand(rest, flags);
      case 'resume':
        return await resumeCommand(rest, flags);
      case 'threads':
        return await threadsCommand(rest, flags);
      case 'agents':
        return await agentsCommand(rest, flags);
      case 'worker':
        return await workerCommand(rest, flags);
      default:
        throw new TwelveError('usage', `unknown command "${command}" (commands: run, resume, threads, agents, worker; see twelve --help)`);
    }
  } catch (error) {
    return report(error);
  }
}

function report(error: unknown): number {
  if (TwelveError.is(error)) {
    process.stderr.write(`twelve: ${error.message}\n`);
    return error.exitCode;
  }
  process.stderr.write(`twelve: internal error: ${errorMessage(error)}\n`);
  if (process.env.TWELVE_DEBUG) process.stderr.write(`${(error as Error)?.stack ?? ''}\n`);
  return 1;
}

function print(text: string): number {
  process.stdout.write(`${text}\n`);
  return 0;
}

function expectArgs(rest: string[], count: number, usage: string): void {
  if (rest.length !== count) throw new TwelveError('usage', `usage: ${usage}`);
}

async function loadAgents(flags: Flags, agentPath?: string): Promise<Agent[]> {
  const project = await import('../config/project.js');
  if (agentPath) return project.loadAgentFile(agentPath);
  const configPath = flags.config ?? process.env.TWELVE_CONFIG ?? project.findProjectConfig();
  if (!configPath) return [];
  return (await project.loadProjectConfig(configPath)).agents;
}

async function makeRuntime(agents: Agent[]): Promise<Runtime> {
  const { createRuntime } = await import('../runtime/runtime.js');
  return createRuntime({ agents });
}

const looksLikePath = (value: string) => /[\\/]/.test(value) || /\.[cm]?[jt]s$/.test(value);

async function runCommand(rest: string[], flags: Flags): Promise<number> {
  expectArgs(rest, 1, 'twelve run <agent|path/to/agent.ts> --input <text|@file|->');
  const target = rest[0]!;
  if (flags.input === undefined) throw new TwelveError('usage', 'twelve run needs --input <text|@file|->');
  const { readInputText, coerceInput } = await import('./input.js');
  const text = readInputText(flags.input);
  const agents = await loadAgents(flags, looksLikePath(target) ? target : undefined);
  const agentName = looksLikePath(target) ? agents[0]!.name : target;
  if (!looksLikePath(target) && agents.length === 0) {
    throw new TwelveError('usage', `no agents found: add a twelve.config.ts that exports defineConfig({ agents: [...] }), pass --config, or give a path to an agent file`);
  }
  const runtime = await makeRuntime(agents);
  try {
    const release = runtime.release(agentName);
    const thread = await runtime.launch({ agent: agentName, input: coerceInput(text, release.agent.inputSchema) });
    if (!flags.json) process.stdout.write(`${thread.id}  agent ${agentName}  release ${release.releaseId}\n`);
    return await follow(runtime, thread.id, flags, { printAfterSeq: 0 });
  } finally {
    await runtime.close();
  }
}

async function resumeCommand(rest: string[], flags: Flags): Promise<number> {
  expectArgs(rest, 1, 'twelve resume <thread> [--as <who>] [--comment <text>]');
  const agents = await loadAgents(flags);
  const runtime = await makeRuntime(agents);
  try {
    const thread = await runtime.getThreadOrThrow(rest[0]!);
    runtime.release(thread.agent); // a clear error when this project does not define the thread's agent
    await runtime.resume(thread.id, { by: flags.as ?? defaultUser(), ...(flags.comment ? { comment: flags.comment } : {}) });
    if (!flags.json) process.stdout.write(`${thread.id}  agent ${thread.agent}  resuming after seq ${thread.seq}\n`);
    return await follow(runtime, thread.id, flags, { printAfterSeq: thread.seq });
  } finally {
    await runtime.close();
  }
}

/** Runs a thread in the foreground, printing events as they are appended. */
async function follow(runtime: Runtime, threadId: string, flags: Flags, options: { printAfterSeq: number }): Promise<number> {
  const { EventFormatter } = await import('./format.js');
  const formatter = new EventFormatter();
  const write = (event: ThreadEvent) => process.stdout.write(`${flags.json ? JSON.stringify(event) : formatter.format(event)}\n`);
  const existing = await runtime.loadEvents(threadId);
  // The formatter learns tool names from earlier events even when it does not print them.
  for (const event of existing) event.seq > options.printAfterSeq ? write(event) : formatter.format(event);
  const unsubscribe = runtime.subscribe((event) => {
    if (event.threadId === threadId) write(event);
  });
  const stop = new AbortController();
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals++;
    if (signals > 1) process.exit(exitCodes.interrupted); // second signal: leave now; the lease expires
    process.stderr.write(`\ntwelve: ${signal}: finishing the current step, then stopping (again to force)\n`);
    stop.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let outcome: RunOutcome;
  try {
    outcome = (await runtime.runThread(threadId, { stop: stop.signal })).outcome;
  } finally {
    unsubscribe();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  const thread = await runtime.getThreadOrThrow(threadId);
  if (!flags.json) {
    if (outcome === 'escalated') process.stderr.write(`twelve: ${threadId} waits for a human: ${thread.waitingReason}\n  continue with: twelve resume ${threadId} --comment "<guidance>"\n`);
    if (outcome === 'interrupted') process.stderr.write(`twelve: stopped; continue with: twelve resume ${threadId}\n`);
  }
  return outcome === 'completed' ? 0 : outcome === 'failed' ? exitCodes.failed : outcome === 'escalated' ? exitCodes.waiting : exitCodes.interrupted;
}

function defaultUser(): string {
  return process.env.TWELVE_USER ?? process.env.USER ?? 'cli';
}

async function openStoreForReading() {
  const { loadConfig } = await import('../config/env.js');
  const { openStore } = await import('../store/open.js');
  return openStore(loadConfig(process.env).databaseUrl, { mustExist: true });
}

async function threadsCommand(rest: string[], flags: Flags): Promise<number> {
  const [sub, ...args] = rest;
  if (sub === 'ls' || sub === 'list') {
    expectArgs(args, 0, 'twelve threads ls [--status s1,s2] [--agent a] [--limit n]');
    const status = flags.status?.split(',').map((s) => s.trim()).filter(Boolean);
    for (const s of status ?? []) {
      if (!(threadStatuses as readonly string[]).includes(s)) throw new TwelveError('usage', `--status: "${s}" is not a status (${threadStatuses.join(', ')})`);
    }
    const limit = flags.limit === undefined ? 50 : Number(flags.limit);
    if (!Number.isInteger(limit) || limit <= 0) throw new TwelveError('usage', `--limit must be a positive integer, got "${flags.limit}"`);
    const store = await openStoreForReading();
    try {
      const threads = await store.listThreads({ ...(status ? { status: status as ThreadStatus[] } : {}), ...(flags.agent ? { agent: flags.agent } : {}), limit });
      if (flags.json) {
        for (const thread of threads) process.stdout.write(`${JSON.stringify(thread)}\n`);
        return 0;
      }
      if (threads.length === 0) return print('no threads');
      const { table, statusText, usd } = await import('./format.js');
      const rows = [['THREAD', 'AGENT', 'STATUS', 'STEPS', 'TOKENS', 'COST', 'UPDATED']];
      for (const t of threads) {
        const leased = t.status === 'runnable' && t.leaseUntil !== null && t.leaseUntil > Date.now();
        rows.push([t.id, t.agent, leased ? statusText('running') : statusText(t.status), String(t.modelSteps), String(t.inputTokens + t.outputTokens), usd(t.costUsd), t.updatedAt]);
      }
      return print(table(rows));
    } finally {
      await store.close();
    }
  }
  if (sub === 'show') {
    expectArgs(args, 1, 'twelve threads show <thread>');
    const store = await openStoreForReading();
    try {
      const thread = await store.getThread(args[0]!);
      if (!thread) throw new TwelveError('thread_not_found', `no thread "${args[0]}" in ${store.location}`);
      const events = await store.loadEvents(thread.id);
      if (flags.json) {
        process.stdout.write(`${JSON.stringify({ thread, events })}\n`);
        return 0;
      }
      const { EventFormatter, threadHeader, dim } = await import('./format.js');
      const formatter = new EventFormatter();
      const start = Date.parse(events[0]?.at ?? thread.createdAt);
      const lines = [threadHeader(thread), ''];
      let release = '';
      for (const event of events) {
        if (event.releaseId !== release) {
          release = event.releaseId;
          lines.push(dim(`        release ${release}`));
        }
        lines.push(`${dim(`+${((Date.parse(event.at) - start) / 1000).toFixed(3)}s`.padStart(10))}${formatter.format(event)}`);
      }
      return print(lines.join('\n'));
    } finally {
      await store.close();
    }
  }
  throw new TwelveError('usage', 'usage: twelve threads ls | twelve threads show <thread>');
}

async function agentsCommand(rest: string[], flags: Flags): Promise<number> {
  if (rest[0] !== 'ls' && rest[0] !== 'list') throw new TwelveError('usage', 'usage: twelve agents ls');
  const agents = await loadAgents(flags);
  if (agents.length === 0) throw new TwelveError('usage', 'no agents found: add a twelve.config.ts that exports defineConfig({ agents: [...] }) or pass --config');
  const { loadConfig } = await import('../config/env.js');
  const { createRelease } = await import('../agent/release.js');
  const config = loadConfig(process.env, agents);
  const releases = agents.map((agent) => createRelease(agent, config.agents[agent.name], version));
  if (flags.json) {
    for (const r of releases) process.stdout.write(`${JSON.stringify({ name: r.agent.name, purpose: r.agent.purpose, releaseId: r.releaseId, models: r.models, tools: r.toolSpecs.map((t) => t.name), limits: r.limits })}\n`);
    return 0;
  }
  const { table } = await import('./format.js');
  const rows = [['AGENT', 'MODEL', 'FALLBACKS', 'TOOLS', 'RELEASE', 'PURPOSE']];
  for (const r of releases) rows.push([r.agent.name, r.models[0]!, r.models.slice(1).join(',') || '-', r.toolSpecs.map((t) => t.name).join(',') || '-', r.releaseId, r.agent.purpose]);
  return print(table(rows));
}

async function workerCommand(rest: string[], flags: Flags): Promise<number> {
  expectArgs(rest, 0, 'twelve worker [--concurrency n]');
  const concurrency = flags.concurrency === undefined ? 1 : Number(flags.concurrency);
  if (!Number.isInteger(concurrency) || concurrency <= 0) throw new TwelveError('usage', `--concurrency must be a positive integer, got "${flags.concurrency}"`);
  const agents = await loadAgents(flags);
  if (agents.length === 0) throw new TwelveError('usage', 'no agents found: add a twelve.config.ts or pass --config');
  const runtime = await makeRuntime(agents);
  const worker = runtime.startWorker({ concurrency });
  process.stderr.write(`twelve worker ${runtime.owner}: ${agents.map((a) => a.name).join(', ')} on ${runtime.store.location}\n`);
  await new Promise<void>((resolve) => {
    let signals = 0;
    const onSignal = () => {
      if (++signals > 1) process.exit(exitCodes.interrupted);
      process.stderr.write('twelve worker: draining (the step in flight finishes; again to force)\n');
      resolve();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
  await worker.stop();
  await runtime.close();
  return 0;
}
