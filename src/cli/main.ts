/**
 * The `twelve` command line. Exit codes: 0 completed, 2 bad usage or config,
 * 3 thread failed or cancelled, 4 waiting (for a person, or asleep), 130 interrupted.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { TwelveError, errorMessage } from '../errors.js';
import { version } from '../version.js';
import type { Agent } from '../agent/define-agent.js';
import type { Runtime, RunOutcome } from '../runtime/runtime.js';
import type { ThreadEvent } from '../thread/events.js';
import type { ThreadRecord } from '../store/types.js';
import { trapShutdownSignals } from '../worker/shutdown-signals.js';

export const exitCodes = { completed: 0, usage: 2, failed: 3, waiting: 4, interrupted: 130 } as const;

const help = `twelve ${version}: run single-purpose LLM agents as durable threads

Usage:
  twelve run <agent|path/to/agent.ts> --input <text|@file|->   launch a thread and run it, printing each step
  twelve resume <thread> [--as <who>] [--comment <text>]       continue an interrupted, paused or escalated thread
  twelve threads ls [--status s1,s2] [--agent a] [--limit n]    list threads, newest first
  twelve threads show <thread>                                  the thread's whole timeline
  twelve inbox                                                  everything waiting for a person
  twelve approve <thread> [callId] --as <who> [--comment ...]   approve a call that waits for approval
  twelve reject <thread> [callId] --as <who> [--comment ...]    reject it (the model sees who and why, and re-plans)
  twelve answer <thread> --as <who> "<answer>"                  answer the agent's question, or guide an escalated thread
  twelve budget <thread> --as <who> [--max-cost-usd n] [--max-tokens n] [--max-steps n]   raise this thread's limits
  twelve pause | cancel <thread> --as <who> [--reason ...]      pause (never claimed until resumed) or cancel a thread
  twelve agents ls                                              agents, their pinned models and release ids
  twelve worker [--concurrency n]                               run threads in the background until SIGTERM
  twelve migrate                                                apply the store's migrations (also done at start, under a lock)
  twelve serve                                                  the HTTP API (PORT, TWELVE_HOST, TWELVE_API_KEYS)
  twelve dev                                                    API + worker + web console in one process: open the printed URL

Options:
  --json              one JSON object per line (events for run/resume/show)
  --wait              run/resume/approve/answer: when the thread waits for a person, keep waiting and continue
                      when they act (from another terminal); without it the command exits 4
  --run               approve/reject/answer/budget: continue the thread in this process afterwards
  --config <file>     project config, or one agent file (default: twelve.config.ts found from the working directory up)
  -h, --help          this help
  -v, --version       the version

Environment: TWELVE_DATABASE_URL (default sqlite:.twelve/twelve.db), TWELVE_MODEL_MODE (live|record|replay),
TWELVE_LOG=json, OPENAI_API_KEY, ANTHROPIC_API_KEY, TWELVE_OPENAI_COMPATIBLE_BASE_URL, TWELVE_AGENT_<NAME>_MODEL ...
TWELVE_HUMANS="alice=finance,approver;bob=support" gives people roles for approval policies.
TWELVE_URL=http://host:port with TWELVE_API_KEY: run, resume, threads, inbox, approve, reject, answer, budget, pause,
cancel and agents talk to a Twelve server (twelve serve / twelve dev) instead of the local store; its workers run the
threads, and decisions are recorded under the API key's name (--as is ignored).
Exit codes: 0 completed, 2 bad usage or config, 3 failed or cancelled, 4 waiting (for a person, or asleep), 130 interrupted.`;

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
  reason: { type: 'string' },
  wait: { type: 'boolean' },
  run: { type: 'boolean' },
  'max-cost-usd': { type: 'string' },
  'max-tokens': { type: 'string' },
  'max-steps': { type: 'string' },
  subject: { type: 'string' }, stream: { type: 'string' }, durable: { type: 'string' }, // twelve consume nats
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
} satisfies ParseArgsConfig['options'];

export type Flags = { [K in keyof typeof options]?: (typeof options)[K]['type'] extends 'string' ? string : boolean };

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
    if (process.env.TWELVE_URL) {
      // Remote mode: the same commands against a Twelve server over HTTP (src/cli/remote.ts).
      const { remote, remoteCommands } = await import('./remote.js');
      if (remoteCommands.includes(command)) return await remote(command, rest, flags);
    }
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
      case 'consume':
        return await consumeCommand(rest, flags);
      case 'inbox':
        return await inboxCommand(rest, flags);
      case 'migrate':
        return await migrateCommand(rest);
      case 'serve':
      case 'dev':
        return await serveCommand(command, rest, flags);
      case 'approve':
      case 'reject':
      case 'answer':
      case 'budget':
      case 'pause':
      case 'cancel':
        return await humanCommand(command, rest, flags);
      default:
        throw new TwelveError('usage', `unknown command "${command}" (commands: run, resume, threads, inbox, approve, reject, answer, budget, pause, cancel, agents, worker; see twelve --help)`);
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

/**
 * Runs a thread in the foreground, printing events as they are appended. With --wait, a
 * thread that waits for a person is watched in the store until someone acts (say, from
 * another terminal), then continued here.
 */
async function follow(runtime: Runtime, threadId: string, flags: Flags, options: { printAfterSeq: number }): Promise<number> {
  const { EventFormatter } = await import('./format.js');
  const formatter = new EventFormatter();
  let seen = 0;
  const write = (event: ThreadEvent) => {
    const line = formatter.format(event); // also teaches the formatter tool names
    if (event.seq <= seen) return;
    seen = event.seq;
    if (event.seq > options.printAfterSeq) process.stdout.write(`${flags.json ? JSON.stringify(event) : line}\n`);
  };
  const catchUp = async () => {
    // Events appended by other processes (a decision from another terminal) are read from the store.
    for (const event of await runtime.loadEvents(threadId, seen)) write(event);
  };
  await catchUp();
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
    for (;;) {
      const run = await runtime.runThread(threadId, { stop: stop.signal });
      outcome = run.outcome;
      if (!flags.wait || !isWaiting(outcome) || stop.signal.aborted) break;
      // The seq as this run left it: someone may act while the notification goes out.
      const waitingSince = run.thread.seq;
      if (!flags.json) process.stderr.write(`twelve: ${threadId} ${waitingHint(run.thread)}\n  waiting here until then (Ctrl-C stops waiting; the thread keeps waiting in the store)\n`);
      await runtime.flushNotifications();
      await waitForChange(runtime, threadId, waitingSince, stop.signal);
      await catchUp();
      if (stop.signal.aborted) {
        outcome = 'interrupted';
        break;
      }
    }
  } finally {
    unsubscribe();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  await runtime.flushNotifications();
  const thread = await runtime.getThreadOrThrow(threadId);
  if (!flags.json) {
    if (isWaiting(outcome)) process.stderr.write(`twelve: ${threadId} ${waitingHint(thread)}\n`);
    if (outcome === 'interrupted') process.stderr.write(`twelve: stopped; continue with: twelve resume ${threadId}\n`);
  }
  return exitCodeFor(outcome);
}

function isWaiting(outcome: RunOutcome): boolean {
  return outcome === 'awaiting_approval' || outcome === 'awaiting_human' || outcome === 'sleeping' || outcome === 'paused';
}

function exitCodeFor(outcome: RunOutcome): number {
  if (outcome === 'completed') return 0;
  if (outcome === 'failed' || outcome === 'cancelled') return exitCodes.failed;
  if (isWaiting(outcome)) return exitCodes.waiting;
  return exitCodes.interrupted;
}

/** What the thread waits for and the command that moves it on. */
function waitingHint(thread: ThreadRecord): string {
  const id = thread.id;
  switch (thread.status) {
    case 'awaiting_approval':
      return `waits for approval: ${thread.waitingReason}\n  decide with: twelve approve ${id} --as <you> [--comment ...]   or: twelve reject ${id} --as <you> --comment "<why>"`;
    case 'awaiting_human':
      if (/^(escalated|budget):/.test(thread.waitingReason ?? '')) {
        return `waits for a human: ${thread.waitingReason}\n  guide it: twelve answer ${id} --as <you> "<guidance>"   raise a limit: twelve budget ${id} --as <you> --max-cost-usd <n>   stop it: twelve cancel ${id} --as <you>`;
      }
      return `waits for an answer: ${thread.waitingReason}\n  answer with: twelve answer ${id} --as <you> "<answer>"`;
    case 'sleeping':
      return `${thread.waitingReason}; a worker (twelve worker) or twelve resume ${id} continues it after that`;
    case 'paused':
      return `is ${thread.waitingReason}; continue with: twelve resume ${id} --as <you>`;
    default:
      return `is ${thread.status}`;
  }
}

/** Polls the store until the thread's log grows (someone acted) or a wake-up time passes. */
async function waitForChange(runtime: Runtime, threadId: string, seq: number, stop: AbortSignal): Promise<void> {
  while (!stop.aborted) {
    const thread = await runtime.getThreadOrThrow(threadId);
    if (thread.seq !== seq || (thread.wakeAt !== null && thread.wakeAt <= Date.now())) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
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
    const { parseListFlags } = await import('./arguments.js');
    const { status, limit } = parseListFlags(flags);
    const store = await openStoreForReading();
    try {
      const threads = await store.listThreads({ ...(status ? { status } : {}), ...(flags.agent ? { agent: flags.agent } : {}), limit });
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
      const { renderTimeline } = await import('./format.js');
      return print(renderTimeline(thread, events));
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
  // First, before anything loads: a SIGTERM during start-up exits 0 (src/worker/shutdown-signals.ts).
  const signals = trapShutdownSignals({ name: 'twelve worker', forcedExitCode: exitCodes.interrupted });
  expectArgs(rest, 0, 'twelve worker [--concurrency n]');
  const started = performance.now();
  const concurrency = flags.concurrency === undefined ? undefined : Number(flags.concurrency);
  if (concurrency !== undefined && (!Number.isInteger(concurrency) || concurrency <= 0)) {
    throw new TwelveError('usage', `--concurrency must be a positive integer, got "${flags.concurrency}"`);
  }
  const agents = await loadAgents(flags);
  if (agents.length === 0) throw new TwelveError('usage', 'no agents found: add a twelve.config.ts or pass --config');
  const runtime = await makeRuntime(agents);
  const { worker: settings } = runtime.config;
  const worker = runtime.startWorker({ concurrency: concurrency ?? settings.concurrency, pollMs: settings.pollMs });
  signals.running(() => `draining (steps in flight get ${settings.shutdownGraceMs} ms; again to force)`);
  process.stderr.write(
    `twelve worker ${runtime.owner}: ready in ${Math.round(performance.now() - started)} ms; ${agents.map((a) => a.name).join(', ')} on ${runtime.store.location}, concurrency ${concurrency ?? settings.concurrency}\n`,
  );
  await signals.requested;
  // The process is gone soon after the grace period, whatever still runs.
  signals.exitAfter(settings.shutdownGraceMs + 1_000, 0, 'still stopping 1 s after the grace period; exiting');
  const drained = await worker.stop({ graceMs: settings.shutdownGraceMs });
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
}

async function inboxCommand(rest: string[], flags: Flags): Promise<number> {
  expectArgs(rest, 0, 'twelve inbox [--agent a]');
  const store = await openStoreForReading();
  try {
    const threads = (await store.listThreads({ status: ['awaiting_approval', 'awaiting_human'], ...(flags.agent ? { agent: flags.agent } : {}), limit: 200 })).reverse();
    if (flags.json) {
      for (const thread of threads) process.stdout.write(`${JSON.stringify(thread)}\n`);
      return 0;
    }
    if (threads.length === 0) return print('nothing is waiting for a person');
    const { table, statusText } = await import('./format.js');
    const rows = [['THREAD', 'AGENT', 'WAITING FOR', 'SINCE', 'DEADLINE']];
    for (const t of threads) rows.push([t.id, t.agent, `${statusText(t.status)}  ${t.waitingReason ?? ''}`, t.updatedAt, t.wakeAt ? new Date(t.wakeAt).toISOString() : '-']);
    return print(table(rows));
  } finally {
    await store.close();
  }
}

/** approve, reject, answer, budget, pause, cancel: one recorded action by a named person. */
async function humanCommand(command: string, rest: string[], flags: Flags): Promise<number> {
  const { parseHumanCommand } = await import('./arguments.js');
  const { threadId, action } = parseHumanCommand(command, rest, flags, { as: true });
  const agents = await loadAgents(flags);
  const runtime = await makeRuntime(agents);
  try {
    const before = await runtime.getThreadOrThrow(threadId);
    runtime.release(before.agent); // a clear error when this project does not define the thread's agent
    const result = await runtime.act(threadId, flags.as!, action);
    const { EventFormatter } = await import('./format.js');
    const formatter = new EventFormatter();
    for (const event of await runtime.loadEvents(threadId)) {
      const line = formatter.format(event);
      if (event.seq > before.seq && !flags.json) process.stdout.write(`${line}\n`);
      if (event.seq > before.seq && flags.json) process.stdout.write(`${JSON.stringify(event)}\n`);
    }
    if (!result.applied && !flags.json) process.stdout.write(`${command} requested: a worker is running ${threadId}; it applies after the current step\n`);
    if (flags.run || flags.wait) return await follow(runtime, threadId, flags, { printAfterSeq: result.thread.seq });
    await runtime.flushNotifications();
    const status = result.thread.status;
    if (!flags.json && status === 'runnable') process.stdout.write(`${threadId} is runnable: it continues in a process waiting on it (--wait), in a worker (twelve worker), or here with: twelve resume ${threadId}\n`);
    return 0;
  } finally {
    await runtime.close();
  }
}

/**
 * twelve consume nats: a thread per message on a NATS JetStream subject (src/triggers/nats.ts),
 * run by a worker in the same process, until SIGTERM/SIGINT. TWELVE_NATS_URL (default
 * nats://127.0.0.1:4222). Stopping drains the worker first (so the threads it finishes
 * still get their replies), then the consumer (the message in flight is launched and acked).
 */
async function consumeCommand(rest: string[], flags: Flags): Promise<number> {
  const usage = 'twelve consume nats [--subject twelve.launch.>] [--stream TWELVE_LAUNCH] [--durable twelve] [--concurrency n]';
  if (rest.length !== 1 || rest[0] !== 'nats') throw new TwelveError('usage', `usage: ${usage} (nats is the only broker)`);
  const concurrency = flags.concurrency === undefined ? 1 : Number(flags.concurrency);
  if (!Number.isInteger(concurrency) || concurrency <= 0) throw new TwelveError('usage', `--concurrency must be a positive integer, got "${flags.concurrency}"`);
  const agents = await loadAgents(flags);
  if (agents.length === 0) throw new TwelveError('usage', 'no agents found: add a twelve.config.ts or pass --config');
  const servers = process.env.TWELVE_NATS_URL || 'nats://127.0.0.1:4222';
  const subject = flags.subject ?? 'twelve.launch.>';
  const stream = flags.stream ?? 'TWELVE_LAUNCH';
  const durable = flags.durable ?? 'twelve';
  const runtime = await makeRuntime(agents);
  const { startNatsTrigger, lineLogger } = await import('../triggers/nats.js');
  let trigger;
  try {
    trigger = await startNatsTrigger({ runtime, servers, stream, subject, durable, logger: runtime.config.log === 'json' ? runtime.logger : lineLogger() });
  } catch (error) {
    await runtime.close();
    throw error;
  }
  const worker = runtime.startWorker({ concurrency });
  process.stderr.write(`twelve consume ${runtime.owner}: ${subject} (stream ${stream}, consumer ${durable}) at ${servers.replace(/\/\/[^@/]*@/g, '//***@')} -> ${agents.map((a) => a.name).join(', ')} on ${runtime.store.location}\n`);
  let signals = 0;
  const onSignal = () => {
    if (++signals > 1) process.exit(exitCodes.interrupted);
    process.stderr.write('twelve consume: draining (the step and the message in flight finish; again to force)\n');
  };
  const signalled = new Promise<void>((resolve) => {
    process.on('SIGINT', () => (onSignal(), resolve()));
    process.on('SIGTERM', () => (onSignal(), resolve()));
  });
  const failure = await Promise.race([signalled.then(() => undefined), trigger.stopped]);
  if (failure) process.stderr.write(`twelve consume: ${failure.message}\n`);
  await worker.stop();
  await trigger.stop();
  await runtime.close();
  return failure ? 1 : 0;
}

/** `twelve serve` (the API; workers run elsewhere) and `twelve dev` (API + worker + console, one process). */
async function serveCommand(command: string, rest: string[], flags: Flags): Promise<number> {
  expectArgs(rest, 0, `twelve ${command}`);
  const { startServer, randomKey } = await import('../server/serve.js');
  const agents = await loadAgents(flags);
  if (agents.length === 0) throw new TwelveError('usage', 'no agents found: add a twelve.config.ts or pass --config');
  const portText = process.env.PORT ?? (command === 'dev' ? '4120' : '8080');
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new TwelveError('config_invalid', `PORT must be a port number, got "${portText}"`);
  const host = process.env.TWELVE_HOST ?? '127.0.0.1';
  const runtime = await makeRuntime(agents);
  const dev = command === 'dev';
  // In dev on loopback with no keys configured, the console signs in with a fresh key of all roles.
  const loopback = host === '127.0.0.1' || host === '::1' || host === 'localhost';
  const bootKey = dev && loopback ? { key: randomKey(), name: process.env.TWELVE_USER ?? process.env.USER ?? 'developer' } : undefined;
  let server;
  try {
    server = await startServer({ runtime, host, port, console: true, ...(bootKey ? { bootKey } : {}) });
  } catch (error) {
    await runtime.close();
    throw error;
  }
  const worker = dev ? runtime.startWorker({ concurrency: runtime.config.worker.concurrency, pollMs: runtime.config.worker.pollMs }) : undefined;
  process.stderr.write(`twelve ${command}: ${server.url}  (API ${server.url}/v1, OpenAPI ${server.url}/openapi.json${dev ? ', console and worker in this process' : ''})\n`);
  if (bootKey) process.stderr.write(`  console: ${server.url}/   signed in as ${bootKey.name}; API key for this run: ${bootKey.key}\n`);
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
  if (drained === false) process.exit(0); // a step outlived the grace period: exit holding its lease (see workerCommand)
  await runtime.close();
  return 0;
}

/** Applies migrations to the store named by TWELVE_DATABASE_URL (every process also does it at start). */
async function migrateCommand(rest: string[]): Promise<number> {
  expectArgs(rest, 0, 'twelve migrate');
  const { loadConfig } = await import('../config/env.js');
  const url = loadConfig(process.env).databaseUrl;
  if (/^postgres(ql)?:/.test(url)) {
    const { migratePostgres } = await import('../store/postgres/migrations.js');
    const result = await migratePostgres(url);
    return print(`${result.location}: schema version ${result.version}${result.applied.length ? ` (applied ${result.applied.join(', ')})` : ' (up to date)'}`);
  }
  const { openStore } = await import('../store/open.js');
  const store = openStore(url);
  await store.close();
  return print(`${store.location}: migrated`);
}
