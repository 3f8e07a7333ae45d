/**
 * `twelve replay`: run recorded threads again on a release (the working tree's, or a stored
 * one) without side effects, and say where each first diverges. One thread, or a batch of an
 * agent's threads as a gate before a change ships. Local store only (TWELVE_DATABASE_URL).
 */
import type { AgentRelease } from '../../agent/release.js';
import { TwelveError } from '../../errors.js';
import type { ReplayResult } from '../../replay/types.js';
import type { Store } from '../../store/types.js';
import { print, usageError, type CommandSpec, type Flags } from '../command.js';

export const replay: CommandSpec = {
  name: 'replay',
  summary: 'run recorded threads again on a release, without side effects, and show the first divergence',
  usage: [
    'replay <thread> [--release current|<id>] [--json]',
    'replay <thread> --live [--as <who>] [--json]',
    'replay --agent <name> [--since 7d] [--limit 200] [--status s1,s2] [--release current|<id>] [--json]',
  ],
  flags: {
    release: 'the release to replay on: current (the code in the working tree, default) or a stored release id',
    agent: 'batch: replay this agent\'s threads, newest first',
    since: 'batch: only threads created within this age: 30m, 12h, 7d, 2w',
    limit: 'batch: at most this many threads (default 200)',
    status: 'batch: only threads in these statuses (e.g. completed,failed)',
    live: 'past the first divergence, go on with the current release and the configured model (live or record) in a shadow thread marked as a replay of this one: its tools that are not pure are served from the recorded results or the tool\'s fake, never run for real',
    as: 'with --live: who starts the shadow thread (default $TWELVE_USER or $USER)',
    json: 'the result as JSON (batch: one line per thread, then a {"summary"} line)',
  },
  details: `Each recorded model request is rebuilt by the chosen release and compared with the one the original
release made (re-derived from its stored manifest). While they are equal the recorded responses and tool
results are served: no model is called, no tool runs, nothing is written. The first difference is reported:
system_prompt, messages, tools, model, settings, tool_arguments, tool_missing, approval or output.
Exit 0 when every thread is the same to the end; 1 when one diverged or could not be replayed (stopped:
e.g. the manifest of its release is missing: a gate fails closed on what it cannot check), or when a batch
compared nothing (no thread matched, or none had a model step); 2 on usage errors.`,
  async run(args, flags) {
    const batch = flags.agent !== undefined;
    if (batch ? args.length !== 0 : args.length !== 1) throw usageError(replay);
    if (!batch) {
      const extra = (['since', 'limit', 'status'] as const).filter((flag) => flags[flag] !== undefined);
      if (extra.length) throw new TwelveError('usage', `${extra.map((flag) => `--${flag}`).join(', ')} only applies to a batch (twelve replay --agent <name>); see twelve replay --help`);
    }
    if (flags.live && batch) throw new TwelveError('usage', '--live continues one thread: twelve replay <thread> --live (a batch only compares)');
    if (flags.live && flags.release !== undefined && flags.release !== 'current') {
      throw new TwelveError('usage', `--live continues on the code here (the current release), not ${flags.release}: check out that code to go on with it`);
    }
    const batchOptions = batch ? await parseBatchFlags(flags) : undefined;
    const releaseFlag = flags.release ?? 'current';
    if (!releaseFlag.trim()) throw new TwelveError('usage', '--release needs "current" or a release id (twelve releases ls)');
    const { openStoreForReading } = await import('../local.js');
    const store = await openStoreForReading();
    try {
      if (batchOptions) return await runBatch(store, flags, flags.agent!, releaseFlag, batchOptions);
      const thread = await store.getThread(args[0]!);
      if (!thread) throw new TwelveError('thread_not_found', `no thread "${args[0]}" in ${store.location}`);
      const candidate = await candidateFor(store, flags, thread.agent, releaseFlag);
      const { replayThread } = await import('../../replay/replay-thread.js');
      const result = await replayThread({ store, threadId: thread.id, candidate });
      if (flags.json) process.stdout.write(`${JSON.stringify(result)}\n`);
      else print(describeResult(result));
      if (flags.live && result.outcome === 'diverged') {
        await continueLive(thread.id, result.servedThroughSeq, flags);
      }
      return result.outcome === 'same' ? 0 : 1;
    } finally {
      await store.close();
    }
  },
};

interface BatchFlags {
  createdAfter: string | undefined;
  limit: number;
  status: import('../../thread/state.js').ThreadStatus[] | undefined;
}

async function parseBatchFlags(flags: Flags): Promise<BatchFlags> {
  if (!/^[a-z][a-z0-9-]*$/.test(flags.agent!)) throw new TwelveError('usage', `--agent must name an agent (lower-case letters, digits, dashes), got "${flags.agent}"`);
  const { parseListFlags } = await import('../arguments.js');
  const { status, limit } = parseListFlags({ ...flags, limit: flags.limit ?? '200' });
  let createdAfter: string | undefined;
  if (flags.since !== undefined) createdAfter = new Date(Date.now() - parseAge(flags.since)).toISOString();
  return { createdAfter, limit, status };
}

const ageUnits: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };

/** "30m", "12h", "7d", "2w" -> milliseconds; anything else is a usage error saying so. */
export function parseAge(text: string): number {
  const match = /^(\d+)([mhdw])$/.exec(text.trim());
  const amount = match ? Number(match[1]) : NaN;
  if (!match || !(amount > 0)) throw new TwelveError('usage', `--since must be an age like 30m, 12h, 7d or 2w (a positive whole number and m, h, d or w), got "${text}"`);
  return amount * ageUnits[match[2]!]!;
}

/** The working tree's release of the agent (when the project has it), then the one --release names. */
async function candidateFor(store: Store, flags: Flags, agent: string, release: string): Promise<AgentRelease> {
  const [{ loadAgents }, { loadConfig }, { createRelease }, { version }, { resolveCandidate }] = await Promise.all([
    import('../local.js'),
    import('../../config/env.js'),
    import('../../agent/release.js'),
    import('../../version.js'),
    import('../../replay/candidate.js'),
  ]);
  const agents = await loadAgents(flags);
  const found = agents.find((a) => a.name === agent);
  const current = found ? createRelease(found, loadConfig(process.env, agents).agents[agent], version) : undefined;
  return resolveCandidate({ store, agent, release, current });
}

async function runBatch(store: Store, flags: Flags, agent: string, release: string, options: BatchFlags): Promise<number> {
  const candidate = await candidateFor(store, flags, agent, release);
  const { replayThreads } = await import('../../replay/replay-batch.js');
  const { results, summary } = await replayThreads({ store, candidate, limit: options.limit, ...(options.createdAfter ? { createdAfter: options.createdAfter } : {}), ...(options.status ? { status: options.status } : {}) });
  if (flags.json) {
    for (const result of results) process.stdout.write(`${JSON.stringify(result)}\n`);
    process.stdout.write(`${JSON.stringify({ summary: { ...summary, agent, release: candidate.releaseId } })}\n`);
  } else {
    const { table } = await import('../format.js');
    const rows = [['THREAD', 'STEPS', 'FROM', 'RESULT']];
    for (const r of results) rows.push([r.threadId, String(r.stepsRecorded), r.fromReleases.join(',') || '-', verdict(r)]);
    if (results.length > 0) print(table(rows));
    print(`${summary.threads} thread${summary.threads === 1 ? '' : 's'} of ${agent} replayed on ${candidate.releaseId}: ${summary.same} same, ${summary.diverged} diverged, ${summary.stopped} stopped${summary.notCompared ? `, ${summary.notCompared} with no model step to compare` : ''} (${summary.durationMs} ms)`);
  }
  // A gate that compared nothing has not shown the candidate behaves the same: it does not pass.
  if (summary.same + summary.diverged + summary.stopped === 0) {
    process.stderr.write(`twelve replay: nothing compared: ${summary.threads === 0 ? `no threads of ${agent} match` : `none of the ${summary.threads} thread${summary.threads === 1 ? '' : 's'} of ${agent} has a model step`} (widen --since, --status or --limit)\n`);
    return 1;
  }
  return summary.diverged > 0 || summary.stopped > 0 ? 1 : 0;
}

/**
 * --live: a shadow fork of the thread cut where the recorded log stops being served (just
 * before the diverging model step), run here in the foreground on the current release.
 */
async function continueLive(threadId: string, atSeq: number, flags: Flags): Promise<void> {
  const [{ requireAgents, makeRuntime }, { defaultUser }, { follow }] = await Promise.all([import('../local.js'), import('../command.js'), import('../follow.js')]);
  const runtime = await makeRuntime(await requireAgents(flags));
  try {
    const shadow = await runtime.fork(threadId, { atSeq, by: flags.as ?? defaultUser(), shadow: { replayOf: threadId } });
    if (!flags.json) print(`${shadow.id}  replay of ${threadId}, going on live from seq ${atSeq} on ${shadow.releaseId} (tools that are not pure: recorded results or fakes only)`);
    await follow(runtime, shadow.id, flags, { printAfterSeq: atSeq });
  } finally {
    await runtime.close();
  }
}

/** One cell: same / diverged at step k: kind / stopped: why. */
function verdict(result: ReplayResult): string {
  if (result.outcome === 'same') return result.stepsCompared === 0 ? 'no model step to compare' : 'same';
  if (result.outcome === 'stopped') return `stopped: ${result.stoppedReason}`;
  return `diverged at step ${result.divergence!.step}: ${result.divergence!.kind}`;
}

function describeResult(result: ReplayResult): string {
  const head = `${result.threadId}  ${result.agent}  ${result.fromReleases.join(',') || '(no model step)'} -> ${result.toRelease}`;
  if (result.outcome === 'same') return `${head}\nsame to the end (${result.stepsCompared} model step${result.stepsCompared === 1 ? '' : 's'} compared, ${result.durationMs} ms)`;
  if (result.outcome === 'stopped') return `${head}\nstopped: ${result.stoppedReason}`;
  const d = result.divergence!;
  const lines = [head, `diverged at step ${d.step} (seq ${d.seq}) of ${result.stepsRecorded}: ${d.kind}${d.also ? ` (also ${d.also.join(', ')})` : ''}`, `  ${d.detail.replace(/\n/g, '\n  ')}`];
  // A prompt diff already shows both sides.
  if (d.kind !== 'system_prompt') {
    if (d.expected !== undefined) lines.push(`  expected: ${shortJson(d.expected)}`);
    if (d.actual !== undefined) lines.push(`  actual:   ${shortJson(d.actual)}`);
  }
  return lines.join('\n');
}

function shortJson(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text.length > 300 ? `${text.slice(0, 299)}…` : text;
}
