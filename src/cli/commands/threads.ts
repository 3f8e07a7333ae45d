/** `twelve threads ls | show`: list threads, or one thread's whole timeline (local store or TWELVE_URL). */
import { TwelveError } from '../../errors.js';
import type { ThreadEvent } from '../../thread/events.js';
import { print, usageError, type CommandSpec, type Flags } from '../command.js';

interface Row {
  id: string;
  agent: string;
  status: string;
  running: boolean;
  modelSteps: number;
  inputTokens: number;
  outputTokens: number;
  costUsd: number | null;
  pricedCostUsd?: number;
  unpricedCalls?: number;
  updatedAt: string;
  /** Set when the thread is a fork (a replay when replayOf is set). */
  forkOf?: { threadId: string; seq: number; replayOf: string | null } | null;
  waitingReason?: string | null;
  /** The output's confidence, where the agent declares one. */
  confidence?: number | null;
}

export const threads: CommandSpec = {
  name: 'threads',
  summary: 'list threads (newest first), or show one thread\'s whole timeline',
  usage: ['threads ls [--status s1,s2] [--agent a] [--limit n] [--json]', 'threads show <thread> [--messages] [--json]'],
  flags: {
    status: 'only threads in these statuses (runnable, awaiting_approval, awaiting_human, awaiting_review, sleeping, paused, completed, failed, cancelled)',
    agent: 'only threads of this agent',
    limit: 'at most this many threads (default 50)',
    json: 'ls: one thread per line; show: {thread, events} as one JSON object (with --messages: {thread, steps})',
    messages: 'show: per model step, the request the model saw (system prompt, messages, tools offered, settings) and its response',
  },
  async run(args, flags) {
    const [sub, ...rest] = args;
    const { openStoreForReading } = await import('../local.js');
    if (sub === 'ls' || sub === 'list') {
      if (rest.length) throw usageError(threads);
      const { parseListFlags } = await import('../arguments.js');
      const { status, limit } = parseListFlags(flags);
      const store = await openStoreForReading();
      try {
        const listed = await store.listThreads({ ...(status ? { status } : {}), ...(flags.agent ? { agent: flags.agent } : {}), limit });
        // What people see: the user's redaction patterns apply (the store keeps what the agent saw).
        const { Redactor } = await import('../../config/redact.js');
        const redactor = Redactor.forViews(process.env);
        const found = listed.map((t) => redactor.scrub(t));
        const now = Date.now();
        const { forkLinks } = await import('../../server/present.js');
        const links = await forkLinks(store, found.map((t) => t.id));
        return printList(found, (t) => ({ ...t, running: t.status === 'runnable' && t.leaseUntil !== null && t.leaseUntil > now, forkOf: links.get(t.id) ?? null }), flags);
      } finally {
        await store.close();
      }
    }
    if (sub === 'show') {
      if (rest.length !== 1) throw usageError(threads);
      const store = await openStoreForReading();
      try {
        const thread = await store.getThread(rest[0]!);
        if (!thread) throw new TwelveError('thread_not_found', `no thread "${rest[0]}" in ${store.location}`);
        // What people see: the user's redaction patterns apply (the store keeps what the agent saw).
        const { Redactor } = await import('../../config/redact.js');
        const redactor = Redactor.forViews(process.env);
        if (flags.messages) {
          const { stepRequests } = await import('../../replay/step-requests.js');
          return printSteps(redactor.scrub(thread), redactor.scrub(await stepRequests(store, await store.loadEvents(thread.id))), flags);
        }
        const children = (await store.listChildren(thread.id)).map((t) => ({ id: t.id, agent: t.agent, status: t.status }));
        return printTimeline(redactor.scrub({ ...thread, children }), redactor.scrub(await store.loadEvents(thread.id)), flags);
      } finally {
        await store.close();
      }
    }
    throw usageError(threads);
  },
  async remote(args, flags) {
    const [sub, ...rest] = args;
    const { withClient, allEvents } = await import('../remote/connection.js');
    if (sub === 'ls' || sub === 'list') {
      if (rest.length) throw usageError(threads);
      const { parseListFlags } = await import('../arguments.js');
      const { status, limit } = parseListFlags(flags);
      return withClient(async (client) => {
        const found = [];
        let cursor: string | undefined;
        do {
          const page = await client.listThreads({ ...(status ? { status } : {}), ...(flags.agent ? { agent: flags.agent } : {}), limit: Math.min(200, limit - found.length), ...(cursor ? { cursor } : {}) });
          found.push(...page.threads);
          cursor = page.nextCursor ?? undefined;
        } while (cursor && found.length < limit);
        return printList(found, (t) => t, flags);
      });
    }
    if (sub === 'show') {
      if (rest.length !== 1) throw usageError(threads);
      return withClient(async (client) => {
        const thread = await client.getThread(rest[0]!);
        if (flags.messages) return printSteps(thread, (await client.stepRequests(thread.id)).steps as Parameters<typeof printSteps>[1], flags);
        return printTimeline(thread, (await allEvents(client, thread.id)) as unknown as ThreadEvent[], flags);
      });
    }
    throw usageError(threads);
  },
};

async function printList<T>(found: T[], row: (thread: T) => Row, flags: Flags): Promise<number> {
  if (flags.json) {
    for (const thread of found) process.stdout.write(`${JSON.stringify(thread)}\n`);
    return 0;
  }
  if (found.length === 0) return print('no threads');
  const { confidenceText, table, statusText, threadCost } = await import('../format.js');
  const shown = found.map(row);
  // Forks say where they come from; a replay (shadow thread) says so, since its tools did not really run.
  const origin = (t: Row) => (t.forkOf ? `${t.forkOf.replayOf ? `replay of ${t.forkOf.replayOf}` : `fork of ${t.forkOf.threadId}`} at seq ${t.forkOf.seq}` : '');
  const forks = shown.some((t) => t.forkOf);
  // A confidence column only when some thread has one (agents that declare none would show a column of dashes).
  const confident = shown.some((t) => typeof t.confidence === 'number');
  const rows = [['THREAD', 'AGENT', 'STATUS', 'STEPS', 'TOKENS', 'COST', ...(confident ? ['CONF'] : []), 'UPDATED', ...(forks ? ['ORIGIN'] : [])]];
  for (const t of shown) {
    // A thread held by a release move says so: it waits for a person to resume or cancel it, not for an answer.
    const status = t.running ? statusText('running') : `${statusText(t.status)}${t.waitingReason?.startsWith('release:') ? ' (held: new release)' : ''}`;
    const confidence = confident ? [typeof t.confidence === 'number' ? confidenceText(t.confidence) : '-'] : [];
    const cells = [t.id, t.agent, status, String(t.modelSteps), String(t.inputTokens + t.outputTokens), threadCost(t, { short: true }), ...confidence, t.updatedAt];
    rows.push(forks ? [...cells, origin(t)] : cells);
  }
  return print(table(rows));
}

async function printTimeline(thread: Parameters<typeof import('../format.js').renderTimeline>[0], events: ThreadEvent[], flags: Flags): Promise<number> {
  if (flags.json) {
    process.stdout.write(`${JSON.stringify({ thread, events })}\n`);
    return 0;
  }
  const { renderTimeline } = await import('../format.js');
  return print(renderTimeline(thread, events));
}

async function printSteps(thread: { id: string }, steps: import('../../replay/step-requests.js').StepRequest[], flags: Flags): Promise<number> {
  if (flags.json) {
    process.stdout.write(`${JSON.stringify({ thread, steps })}\n`);
    return 0;
  }
  const { renderStepRequests } = await import('../step-request-text.js');
  return print(`thread ${thread.id}: what the model saw\n\n${renderStepRequests(steps)}`);
}
