/**
 * `twelve review`: final answers waiting for review (the agent's `review` policy), listed, shown
 * in full, and decided: approve, edit (the corrected output, validated against the output schema),
 * send back with feedback the model reads, or reject. Locally under --as; with TWELVE_URL under
 * the API key's name.
 */
import { readFileSync } from 'node:fs';
import { TwelveError } from '../../errors.js';
import type { HumanAction } from '../../runtime/human.js';
import type { ThreadEvent } from '../../thread/events.js';
import type { Pending, TwelveClient } from '../../client/index.js';
import { print, usageError, type CommandSpec, type Flags } from '../command.js';

/** What a listing and `show` need of one waiting review, from the local store or the API. */
interface ReviewView {
  id: string;
  agent: string;
  reason: string;
  confidence: number | null;
  source: string;
  output: unknown;
  deadline: string | null;
  onTimeout: string;
  reviewers: string[];
  people: string[];
  waitingSince: string;
}

type Verb = 'approve' | 'reject' | 'edit' | 'send-back';
const verbs: Record<Verb, Extract<HumanAction, { kind: 'review' }>['decision']> = { approve: 'approved', reject: 'rejected', edit: 'edited', 'send-back': 'sent_back' };

export const review: CommandSpec = {
  name: 'review',
  summary: 'final answers waiting for review: approve, edit, send back or reject them',
  usage: [
    'review [ls] [--agent a] [--json]',
    'review show <thread> [--json]',
    'review approve|reject <thread> [--comment text] [--as who]',
    'review edit <thread> --output <json|@file> [--comment text] [--as who]',
    'review send-back <thread> --feedback <text> [--as who]',
  ],
  flags: {
    agent: 'ls: only threads of this agent',
    as: 'who reviews (required locally: decisions are recorded with who made them; ignored with TWELVE_URL, where the API key names you)',
    comment: 'why (recorded with the decision; for a rejection, in the failure too)',
    output: 'edit: the corrected output, JSON (or text, for an agent that answers in text), or @file',
    feedback: 'send-back: what the model should change; it reads this as its next input and answers again',
    json: 'ls: one review per line; show: the review as JSON; decisions: the events appended',
  },
  details:
    'An edit must match the agent\'s output schema (exit 2 with the issues); the original answer stays in the log.\nOnly the agent\'s reviewers decide; the first decision stands (exit 5 for the others), and after the deadline\nthe policy default (approve or fail) applies instead.',
  run: (args, flags) => runReview(args, flags, false),
  remote: (args, flags) => runReview(args, flags, true),
};

async function runReview(args: string[], flags: Flags, remote: boolean): Promise<number> {
  const [sub = 'ls', ...rest] = args;
  const list = sub === 'ls' || sub === 'list';
  if (!list && sub !== 'show' && !Object.hasOwn(verbs, sub)) throw new TwelveError('usage', `unknown review command "${sub}" (ls, show, approve, reject, edit, send-back; see twelve review --help)`);
  if (rest.length !== (list ? 0 : 1)) throw usageError(review);
  const threadId = rest[0]!;
  // Checked before any I/O: a bad --output or a missing --feedback never reaches the store or the server.
  const action = list || sub === 'show' ? undefined : actionOf(sub as Verb, flags);
  if (remote) {
    const { withClient } = await import('../remote/connection.js');
    return withClient(async (client) => {
      if (list) return printList(await remoteList(client, flags), flags);
      if (!action) return printShow(await remoteShow(client, threadId), flags);
      return remoteDecide(client, threadId, action, flags);
    });
  }
  if (list) return printList(await localList(flags), flags);
  if (!action) return printShow(await localShow(threadId), flags);
  return localDecide(threadId, action, flags);
}

function actionOf(verb: Verb, flags: Flags): Extract<HumanAction, { kind: 'review' }> {
  const decision = verbs[verb];
  if (flags.output !== undefined && verb !== 'edit') throw new TwelveError('usage', `--output is for twelve review edit, not ${verb}`);
  if (flags.feedback !== undefined && verb !== 'send-back') throw new TwelveError('usage', `--feedback is for twelve review send-back, not ${verb}`);
  if (verb === 'edit' && flags.output === undefined) throw new TwelveError('usage', 'twelve review edit needs the corrected output: --output <json|@file>');
  if (verb === 'send-back' && !flags.feedback?.trim()) throw new TwelveError('usage', 'twelve review send-back needs --feedback <text>: what the model should change');
  return {
    kind: 'review',
    decision,
    ...(verb === 'edit' ? { output: readOutput(flags.output!) } : {}),
    ...(verb === 'send-back' ? { feedback: flags.feedback!.trim() } : {}),
    ...(flags.comment?.trim() ? { comment: flags.comment.trim() } : {}),
  };
}

/** `--output`: JSON, or @file holding JSON; text that is not JSON is a text answer (unless it looks like broken JSON). */
function readOutput(value: string): unknown {
  let text = value;
  if (value.startsWith('@')) {
    const path = value.slice(1);
    try {
      text = readFileSync(path, 'utf8').trim();
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new TwelveError('usage', `--output ${value}: cannot read ${path} (${code === 'ENOENT' ? 'no such file' : code ?? (error as Error).message})`);
    }
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    if (/^\s*[[{"]/.test(text)) throw new TwelveError('usage', `--output is not valid JSON: ${(error as Error).message}`);
    return text;
  }
}

// --- local store ---

async function localList(flags: Flags): Promise<ReviewView[]> {
  const { openStoreForReading } = await import('../local.js');
  const { foldEvents } = await import('../../thread/state.js');
  const store = await openStoreForReading();
  try {
    const threads = (await store.listThreads({ status: ['awaiting_review'], ...(flags.agent ? { agent: flags.agent } : {}), limit: 200 })).reverse();
    const views: ReviewView[] = [];
    for (const thread of threads) {
      const view = viewOf(thread, foldEvents(thread.id, await store.loadEvents(thread.id)).review);
      if (view) views.push(view);
    }
    return views;
  } finally {
    await store.close();
  }
}

async function localShow(threadId: string): Promise<ReviewView> {
  const { openStoreForReading } = await import('../local.js');
  const { foldEvents } = await import('../../thread/state.js');
  const store = await openStoreForReading();
  try {
    const thread = await store.getThread(threadId);
    if (!thread) throw new TwelveError('thread_not_found', `no thread "${threadId}"`);
    const view = viewOf(thread, foldEvents(thread.id, await store.loadEvents(thread.id)).review);
    if (!view) throw new TwelveError('conflict', `thread ${threadId} has no answer waiting for review (status ${thread.status})`);
    return view;
  } finally {
    await store.close();
  }
}

function viewOf(thread: { id: string; agent: string; updatedAt: string }, pending: import('../../thread/state.js').ReviewState | undefined): ReviewView | undefined {
  if (!pending) return undefined;
  return {
    id: thread.id,
    agent: thread.agent,
    reason: pending.reason,
    confidence: pending.confidence ?? null,
    source: pending.source,
    output: pending.output,
    deadline: pending.deadline ?? null,
    onTimeout: pending.onTimeout,
    reviewers: pending.reviewers,
    people: pending.people,
    waitingSince: thread.updatedAt,
  };
}

async function localDecide(threadId: string, action: Extract<HumanAction, { kind: 'review' }>, flags: Flags): Promise<number> {
  if (!flags.as?.trim()) throw new TwelveError('usage', 'say who reviews: --as <you> (decisions are recorded with who made them)');
  const { requireAgents, makeRuntime } = await import('../local.js');
  const runtime = await makeRuntime(await requireAgents(flags));
  try {
    const before = await runtime.getThreadOrThrow(threadId);
    runtime.release(before.agent); // a clear error when this project does not define the thread's agent
    const result = await runtime.act(threadId, flags.as, action);
    await printAppended(await runtime.loadEvents(threadId, before.seq), flags);
    await runtime.flushNotifications();
    if (!flags.json && result.thread.status === 'runnable') {
      process.stdout.write(`${threadId} is runnable: the model answers again in a worker (twelve worker), or here with: twelve resume ${threadId}\n`);
    }
    return 0;
  } finally {
    await runtime.close();
  }
}

// --- a server (TWELVE_URL) ---

async function remoteList(client: TwelveClient, flags: Flags): Promise<ReviewView[]> {
  const { items } = await client.inbox(flags.agent ? { agent: flags.agent } : {});
  return items.flatMap(({ thread, pending }) => pending.filter((p) => p.kind === 'review').map((p) => remoteView(thread, p)));
}

async function remoteShow(client: TwelveClient, threadId: string): Promise<ReviewView> {
  const thread = await client.getThread(threadId);
  const pending = thread.pending.find((p) => p.kind === 'review');
  if (!pending) throw new TwelveError('conflict', `thread ${threadId} has no answer waiting for review (status ${thread.status})`);
  return remoteView(thread, pending);
}

function remoteView(thread: { id: string; agent: string; updatedAt: string }, pending: Pending): ReviewView {
  const p = pending as Extract<Pending, { kind: 'review' }>;
  return { id: thread.id, agent: thread.agent, reason: p.reason, confidence: p.confidence, source: p.source, output: p.output, deadline: p.deadline, onTimeout: p.onTimeout, reviewers: p.reviewers, people: p.people, waitingSince: thread.updatedAt };
}

async function remoteDecide(client: TwelveClient, threadId: string, action: Extract<HumanAction, { kind: 'review' }>, flags: Flags): Promise<number> {
  const { noteIgnoredAs, allEvents } = await import('../remote/connection.js');
  const before = await client.getThread(threadId);
  await noteIgnoredAs(client, flags);
  const { kind: _kind, ...body } = action;
  const result = await client.review(threadId, body);
  await printAppended((await allEvents(client, threadId, before.seq)) as unknown as ThreadEvent[], flags);
  if (!flags.json && result.thread.status === 'runnable') process.stdout.write(`${threadId} is runnable: the server's workers let the model answer again (follow it with: twelve resume ${threadId})\n`);
  return 0;
}

// --- printing ---

async function printList(views: ReviewView[], flags: Flags): Promise<number> {
  if (flags.json) {
    for (const view of views) process.stdout.write(`${JSON.stringify(view)}\n`);
    return 0;
  }
  if (views.length === 0) return print('no answer is waiting for review');
  const { table, short } = await import('../format.js');
  const rows = [['THREAD', 'AGENT', 'REASON', 'CONFIDENCE', 'DEADLINE', 'OUTPUT']];
  for (const v of views) rows.push([v.id, v.agent, v.reason, v.confidence === null ? '-' : String(v.confidence), v.deadline ?? '-', short(v.output, 60)]);
  return print(`${table(rows)}\n\nsee one in full: twelve review show <thread>`);
}

async function printShow(view: ReviewView, flags: Flags): Promise<number> {
  if (flags.json) return print(JSON.stringify(view));
  const { describeDeciders } = await import('../../agent/deciders.js');
  const lines = [
    `${view.id}  agent ${view.agent}  waits for review since ${view.waitingSince}`,
    `reason:      ${view.reason}`,
    `confidence:  ${view.confidence ?? 'not declared'}${view.source === 'fallback' ? '   (answered by the non-LLM fallback)' : ''}`,
    `reviewers:   ${describeDeciders({ roles: view.reviewers, people: view.people })}`,
    `deadline:    ${view.deadline ? `${view.deadline} (then: ${view.onTimeout})` : 'none'}`,
    'output:',
    typeof view.output === 'string' ? view.output : JSON.stringify(view.output, null, 2),
    '',
    `decide: twelve review approve|reject ${view.id} [--comment ...]   twelve review edit ${view.id} --output <json|@file>   twelve review send-back ${view.id} --feedback "<what to change>"`,
  ];
  return print(lines.join('\n'));
}

async function printAppended(events: ThreadEvent[], flags: Flags): Promise<void> {
  const { EventFormatter } = await import('../format.js');
  const formatter = new EventFormatter();
  for (const event of events) process.stdout.write(`${flags.json ? JSON.stringify(event) : formatter.format(event)}\n`);
}
