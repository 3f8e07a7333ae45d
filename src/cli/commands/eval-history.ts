/**
 * `twelve eval history [<agent>]`: stored eval runs, newest first (date, suite, release, model
 * override, passed/failed, score, cost, baseline), then per suite the score trend by release.
 * Local store, or TWELVE_URL.
 */
import { TwelveError } from '../../errors.js';
import type { HistoryRun } from '../../eval/history.js';
import { print, usageError, type Flags } from '../command.js';
import { evalCommand } from './eval.js';

export async function evalHistory(args: string[], flags: Flags): Promise<number> {
  const query = historyQuery(args, flags);
  const { openStoreForReading } = await import('../local.js');
  const store = await openStoreForReading();
  try {
    const runs = await store.listEvalRuns(query);
    return printHistory(runs.map(({ results: _results, ...run }) => run), flags, query.agent);
  } finally {
    await store.close();
  }
}

export async function evalHistoryRemote(args: string[], flags: Flags): Promise<number> {
  const query = historyQuery(args, flags);
  const { withClient } = await import('../remote/connection.js');
  return withClient(async (client) => printHistory((await client.listEvalRuns(query)).runs, flags, query.agent));
}

function historyQuery(args: string[], flags: Flags): { agent?: string; limit: number } {
  if (args.length > 1) throw usageError(evalCommand);
  const limit = flags.limit === undefined ? 20 : Number(flags.limit);
  if (!Number.isInteger(limit) || limit <= 0 || limit > 500) throw new TwelveError('usage', `--limit must be an integer from 1 to 500, got "${flags.limit}"`);
  return { ...(args[0] ? { agent: args[0] } : {}), limit };
}

async function printHistory(runs: HistoryRun[], flags: Flags, agent: string | undefined): Promise<number> {
  const { scoreTrends } = await import('../../eval/history.js');
  if (flags.json) return print(JSON.stringify({ runs, trends: scoreTrends(runs) }));
  if (runs.length === 0) return print(`no eval runs${agent ? ` of ${agent}` : ''} stored yet (twelve eval <agent> stores each run)`);
  const { table, usd } = await import('../format.js');
  const rows = [['DATE', 'SUITE', 'RELEASE', 'MODEL', 'PASSED', 'FAILED', 'SCORE', 'COST', 'BASELINE']];
  for (const run of runs) {
    rows.push([
      run.createdAt.slice(0, 16).replace('T', ' '),
      run.suite,
      run.releaseId,
      run.model ?? '-',
      String(run.summary.passed),
      String(run.summary.failed),
      run.summary.score.toFixed(2),
      usd(run.summary.costUsd),
      run.baselineReleaseId ?? '-',
    ]);
  }
  const lines = [table(rows), ''];
  for (const trend of scoreTrends(runs)) {
    const points = trend.points.map((p) => `${p.releaseId}${p.model ? ` (${p.model})` : ''} ${p.score.toFixed(2)}`);
    lines.push(`trend ${trend.suite}: ${points.join(' → ')}`);
  }
  return print(lines.join('\n'));
}
