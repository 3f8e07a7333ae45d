/**
 * The CLI against a Twelve server (TWELVE_URL + TWELVE_API_KEY) instead of the local store:
 * run, resume, threads, inbox, approve, reject, answer, budget, pause, cancel and agents go
 * through the typed client (twelve-agents/client). Threads run on the server's workers; the
 * CLI launches, acts and follows the event stream, printing with the same EventFormatter and
 * exiting with the same codes. Every decision is recorded under the API key's name (--as is
 * ignored, with a note).
 */
import { TwelveError } from '../errors.js';
import type { ThreadEvent } from '../thread/events.js';
import type { ThreadStatus } from '../thread/state.js';
import { ApiError, createClient, type ActionResult, type Event, type Thread, type TwelveClient } from '../client/index.js';
import { exitCodes, type Flags } from './main.js';
import { parseHumanCommand, parseListFlags } from './arguments.js';

/** The commands that have a remote form; the rest (worker, serve, dev, migrate, consume) stay local. */
export const remoteCommands = ['run', 'resume', 'threads', 'inbox', 'approve', 'reject', 'answer', 'budget', 'pause', 'cancel', 'agents'];

const waitingStatuses: readonly ThreadStatus[] = ['awaiting_approval', 'awaiting_human', 'sleeping', 'paused'];
/** Events after which a thread may be waiting (for a person, or asleep). */
const waitingEvents = new Set(['approval_requested', 'human_asked', 'escalated', 'budget_exceeded', 'tool_sleeping', 'paused', 'blocked']);
const isTerminal = (status: string) => status === 'completed' || status === 'failed' || status === 'cancelled';
const looksLikePath = (value: string) => /[\\/]/.test(value) || /\.[cm]?[jt]s$/.test(value);

export async function remote(command: string, rest: string[], flags: Flags, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const url = env.TWELVE_URL!;
  const apiKey = env.TWELVE_API_KEY;
  if (!apiKey) throw new TwelveError('config_invalid', `TWELVE_URL is set (${url}), so the CLI talks to that server: set TWELVE_API_KEY to one of its API keys`);
  let client: TwelveClient;
  try {
    client = createClient({ url, apiKey });
  } catch (error) {
    throw new TwelveError('config_invalid', `TWELVE_URL: ${(error as Error).message.replace(/^createClient: /, '')}`);
  }
  try {
    switch (command) {
      case 'run':
        return await runCommand(client, rest, flags);
      case 'resume':
        return await resumeCommand(client, rest, flags);
      case 'threads':
        return await threadsCommand(client, rest, flags);
      case 'inbox':
        return await inboxCommand(client, rest, flags);
      case 'agents':
        return await agentsCommand(client, rest, flags);
      default:
        return await humanCommand(client, command, rest, flags);
    }
  } catch (error) {
    if (!ApiError.is(error)) throw error;
    process.stderr.write(`twelve: ${describe(error, client)}\n`);
    return error.status >= 500 ? 1 : exitCodes.usage;
  }
}

function describe(error: ApiError, client: TwelveClient): string {
  if (error.status === 401) return `${error.message} (TWELVE_API_KEY is not a key of ${client.url})`;
  if (error.status === 0) return `${error.message} (TWELVE_URL)`;
  return error.message;
}

function print(text: string): number {
  process.stdout.write(`${text}\n`);
  return 0;
}

function expectArgs(rest: string[], count: number, usage: string): void {
  if (rest.length !== count) throw new TwelveError('usage', `usage: ${usage}`);
}

async function noteIgnoredAs(client: TwelveClient, flags: Flags): Promise<void> {
  if (!flags.as) return;
  const me = await client.me();
  if (me.name !== flags.as) process.stderr.write(`twelve: note: --as is ignored with TWELVE_URL: the server records the API key's owner, ${me.name}\n`);
}

async function runCommand(client: TwelveClient, rest: string[], flags: Flags): Promise<number> {
  expectArgs(rest, 1, 'twelve run <agent> --input <text|@file|->');
  const agent = rest[0]!;
  if (looksLikePath(agent)) throw new TwelveError('usage', `with TWELVE_URL, run takes the name of an agent the server runs (twelve agents ls), not a file; to run ${agent} here, unset TWELVE_URL`);
  if (flags.input === undefined) throw new TwelveError('usage', 'twelve run needs --input <text|@file|->');
  const { readInputText } = await import('./input.js');
  const text = readInputText(flags.input);
  let launched;
  try {
    launched = await client.launch(agent, text);
  } catch (error) {
    // As locally: the text as it is, or JSON when the agent wants structured input and the text parses.
    const json = parseJson(text);
    if (!ApiError.is(error) || error.code !== 'input_invalid' || json === undefined) throw error;
    launched = await client.launch(agent, json);
  }
  const { thread } = launched;
  if (!flags.json) process.stdout.write(`${thread.id}  agent ${agent}  release ${thread.releaseId}\n`);
  return follow(client, thread.id, flags, { printAfterSeq: 0 });
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

async function resumeCommand(client: TwelveClient, rest: string[], flags: Flags): Promise<number> {
  expectArgs(rest, 1, 'twelve resume <thread> [--comment <text>]');
  const thread = await client.getThread(rest[0]!);
  if (isTerminal(thread.status)) throw new TwelveError('thread_not_runnable', `thread ${thread.id} is ${thread.status}; there is nothing to resume`);
  await noteIgnoredAs(client, flags);
  // Paused or escalated threads need a resume event; a runnable (or waiting) one is just followed.
  if (thread.status === 'paused' || (thread.status === 'awaiting_human' && /^(escalated|budget|blocked):/.test(thread.waitingReason ?? ''))) {
    await client.resume(thread.id, flags.comment ? { comment: flags.comment } : {});
  }
  if (!flags.json) process.stdout.write(`${thread.id}  agent ${thread.agent}  resuming after seq ${thread.seq}\n`);
  return follow(client, thread.id, flags, { printAfterSeq: thread.seq });
}

/**
 * Follows a thread the server's workers run: prints its events from the stream (which
 * reconnects with Last-Event-ID) until it finishes, or until it waits for a person (exit 4),
 * or, with --wait, through the wait until someone acts.
 */
async function follow(client: TwelveClient, threadId: string, flags: Flags, options: { printAfterSeq: number }): Promise<number> {
  const { EventFormatter } = await import('./format.js');
  const formatter = new EventFormatter();
  let seen = 0;
  const write = (event: Event) => {
    const line = formatter.format(event as unknown as ThreadEvent); // also teaches the formatter tool names
    if (event.seq <= seen) return;
    seen = event.seq;
    if (event.seq > options.printAfterSeq) process.stdout.write(`${flags.json ? JSON.stringify(event) : line}\n`);
  };
  const stop = new AbortController();
  let signals = 0;
  const onSignal = () => {
    if (++signals > 1) process.exit(exitCodes.interrupted);
    stop.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let hinted = -1;
  // A thread nobody runs (no worker on the server) would look like a hang: say so once.
  let idleTimer: NodeJS.Timeout | undefined;
  let idleNoted = false;
  const watchIdle = () => {
    clearTimeout(idleTimer);
    if (idleNoted || flags.json) return;
    idleTimer = setTimeout(() => {
      void client.getThread(threadId).then(
        (thread) => {
          if (thread.status !== 'runnable' || thread.running || stop.signal.aborted) return;
          idleNoted = true;
          process.stderr.write(`twelve: ${threadId} is runnable but no worker has picked it up yet (the server needs workers: twelve worker, or twelve dev)\n`);
        },
        () => undefined,
      );
    }, 5_000);
    idleTimer.unref();
  };
  /** Whether to stop here: the thread waits and --wait is off. Prints what it waits for (once per wait). */
  const checkWaiting = async (): Promise<Thread | undefined> => {
    const thread = await client.getThread(threadId);
    if (!waitingStatuses.includes(thread.status)) return undefined;
    // Print what came before the wait (the stream may not have delivered it yet).
    if (thread.seq > seen) for (const event of (await client.events(threadId, seen, { limit: 1000 })).events) write(event);
    if (!flags.wait) return thread;
    if (hinted !== thread.seq && !flags.json) {
      hinted = thread.seq;
      process.stderr.write(`twelve: ${threadId} ${waitingHint(thread)}\n  waiting here until then (Ctrl-C stops waiting; the thread keeps waiting on the server)\n`);
    }
    return undefined;
  };
  try {
    const waiting = await checkWaiting();
    if (waiting) return stopWaiting(waiting, flags);
    watchIdle();
    for await (const item of client.stream(threadId, { signal: stop.signal, after: 0 })) {
      if (item.kind === 'end') {
        if (item.lastSeq > seen) for (const event of (await client.events(threadId, seen, { limit: 1000 })).events) write(event);
        return exitCodeFor(item.status);
      }
      write(item.event);
      watchIdle();
      if (waitingEvents.has(item.event.type)) {
        const stopped = await checkWaiting();
        if (stopped) return stopWaiting(stopped, flags);
      }
    }
    // Only a signal ends the stream without `end`.
    if (!flags.json) process.stderr.write(`twelve: stopped following ${threadId}; it goes on on the server (follow it again with: twelve resume ${threadId})\n`);
    return exitCodes.interrupted;
  } finally {
    clearTimeout(idleTimer);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

function stopWaiting(thread: Thread, flags: Flags): number {
  if (!flags.json) process.stderr.write(`twelve: ${thread.id} ${waitingHint(thread)}\n`);
  return exitCodes.waiting;
}

function exitCodeFor(status: string): number {
  if (status === 'completed') return exitCodes.completed;
  if (status === 'failed' || status === 'cancelled') return exitCodes.failed;
  return exitCodes.waiting;
}

/** What the thread waits for and the command that moves it on (no --as: the key says who). */
function waitingHint(thread: Thread): string {
  const id = thread.id;
  switch (thread.status) {
    case 'awaiting_approval':
      return `waits for approval: ${thread.waitingReason}\n  decide with: twelve approve ${id} [--comment ...]   or: twelve reject ${id} --comment "<why>"`;
    case 'awaiting_human':
      if (thread.waitingReason?.startsWith('blocked:')) return `is ${thread.waitingReason}\n  fix the configuration of the server's workers, then: twelve resume ${id}`;
      if (/^(escalated|budget):/.test(thread.waitingReason ?? '')) {
        return `waits for a human: ${thread.waitingReason}\n  guide it: twelve answer ${id} "<guidance>"   raise a limit: twelve budget ${id} --max-cost-usd <n>   stop it: twelve cancel ${id}`;
      }
      return `waits for an answer: ${thread.waitingReason}\n  answer with: twelve answer ${id} "<answer>"`;
    case 'sleeping':
      return `${thread.waitingReason}; the server's workers continue it after that (follow it with: twelve resume ${id})`;
    case 'paused':
      return `is ${thread.waitingReason}; continue with: twelve resume ${id}`;
    default:
      return `is ${thread.status}`;
  }
}

async function threadsCommand(client: TwelveClient, rest: string[], flags: Flags): Promise<number> {
  const [sub, ...args] = rest;
  if (sub === 'ls' || sub === 'list') {
    expectArgs(args, 0, 'twelve threads ls [--status s1,s2] [--agent a] [--limit n]');
    const { status, limit } = parseListFlags(flags);
    const threads: Thread[] = [];
    let cursor: string | undefined;
    do {
      const page = await client.listThreads({ ...(status ? { status } : {}), ...(flags.agent ? { agent: flags.agent } : {}), limit: Math.min(200, limit - threads.length), ...(cursor ? { cursor } : {}) });
      threads.push(...page.threads);
      cursor = page.nextCursor ?? undefined;
    } while (cursor && threads.length < limit);
    if (flags.json) {
      for (const thread of threads) process.stdout.write(`${JSON.stringify(thread)}\n`);
      return 0;
    }
    if (threads.length === 0) return print('no threads');
    const { table, statusText, usd } = await import('./format.js');
    const rows = [['THREAD', 'AGENT', 'STATUS', 'STEPS', 'TOKENS', 'COST', 'UPDATED']];
    for (const t of threads) {
      rows.push([t.id, t.agent, t.status === 'runnable' && t.running ? statusText('running') : statusText(t.status), String(t.modelSteps), String(t.inputTokens + t.outputTokens), usd(t.costUsd), t.updatedAt]);
    }
    return print(table(rows));
  }
  if (sub === 'show') {
    expectArgs(args, 1, 'twelve threads show <thread>');
    const thread = await client.getThread(args[0]!);
    const events = await allEvents(client, thread.id);
    if (flags.json) {
      process.stdout.write(`${JSON.stringify({ thread, events })}\n`);
      return 0;
    }
    const { renderTimeline } = await import('./format.js');
    return print(renderTimeline(thread, events as unknown as ThreadEvent[]));
  }
  throw new TwelveError('usage', 'usage: twelve threads ls | twelve threads show <thread>');
}

async function allEvents(client: TwelveClient, threadId: string, after = 0): Promise<Event[]> {
  const events: Event[] = [];
  for (;;) {
    const page = await client.events(threadId, after, { limit: 1000 });
    events.push(...page.events);
    if (page.events.length < 1000) return events;
    after = page.lastSeq;
  }
}

async function inboxCommand(client: TwelveClient, rest: string[], flags: Flags): Promise<number> {
  expectArgs(rest, 0, 'twelve inbox [--agent a]');
  const { items } = await client.inbox(flags.agent ? { agent: flags.agent } : {});
  if (flags.json) {
    for (const item of items) process.stdout.write(`${JSON.stringify(item)}\n`);
    return 0;
  }
  if (items.length === 0) return print('nothing is waiting for a person');
  const { table, statusText } = await import('./format.js');
  const rows = [['THREAD', 'AGENT', 'WAITING FOR', 'SINCE', 'DEADLINE']];
  for (const { thread: t } of items) rows.push([t.id, t.agent, `${statusText(t.status)}  ${t.waitingReason ?? ''}`, t.updatedAt, t.wakeAt ?? '-']);
  return print(table(rows));
}

async function agentsCommand(client: TwelveClient, rest: string[], flags: Flags): Promise<number> {
  if (rest[0] !== 'ls' && rest[0] !== 'list') throw new TwelveError('usage', 'usage: twelve agents ls');
  const { agents } = await client.agents();
  if (flags.json) {
    for (const agent of agents) process.stdout.write(`${JSON.stringify(agent)}\n`);
    return 0;
  }
  if (agents.length === 0) return print('the server runs no agents');
  const { table } = await import('./format.js');
  const rows = [['AGENT', 'MODEL', 'FALLBACKS', 'TOOLS', 'RELEASE', 'PURPOSE']];
  for (const a of agents) rows.push([a.name, a.models[0] ?? '-', a.models.slice(1).join(',') || '-', a.tools.map((t) => t.name).join(',') || '-', a.releaseId, a.purpose]);
  return print(table(rows));
}

/** approve, reject, answer, budget, pause, cancel: one action, recorded under the API key's name. */
async function humanCommand(client: TwelveClient, command: string, rest: string[], flags: Flags): Promise<number> {
  const { threadId, action } = parseHumanCommand(command, rest, flags, { as: false });
  let act: () => Promise<ActionResult>;
  switch (action.kind) {
    case 'decide': {
      const { kind: _kind, ...decision } = action;
      act = () => client.decide(threadId, decision);
      break;
    }
    case 'answer': {
      const { kind: _kind, ...answer } = action;
      act = () => client.answer(threadId, answer);
      break;
    }
    case 'raiseBudget': {
      const { kind: _kind, ...limits } = action;
      act = () => client.raiseBudget(threadId, limits);
      break;
    }
    case 'pause':
    case 'cancel': {
      const body = action.reason ? { reason: action.reason } : {};
      act = () => (action.kind === 'pause' ? client.pause(threadId, body) : client.cancel(threadId, body));
      break;
    }
    default:
      throw new TwelveError('usage', `unknown command "${command}"`);
  }
  const before = await client.getThread(threadId);
  await noteIgnoredAs(client, flags);
  const result = await act();
  const { EventFormatter } = await import('./format.js');
  const formatter = new EventFormatter();
  // Workers may append while these are read: follow() must start after the last one printed, not after the decision.
  let printed = result.thread.seq;
  for (const event of await allEvents(client, threadId)) {
    const line = formatter.format(event as unknown as ThreadEvent);
    if (event.seq > before.seq) process.stdout.write(`${flags.json ? JSON.stringify(event) : line}\n`);
    printed = Math.max(printed, event.seq);
  }
  if (!result.applied && !flags.json) process.stdout.write(`${command} requested: a worker is running ${threadId}; it applies after the current step\n`);
  if (flags.run || flags.wait) return follow(client, threadId, flags, { printAfterSeq: printed });
  if (!flags.json && result.thread.status === 'runnable') process.stdout.write(`${threadId} is runnable: the server's workers continue it (follow it with: twelve resume ${threadId})\n`);
  return 0;
}
