/** `twelve prune`: archive, then delete, finished threads older than a cut-off (retention). */
import { formatBytes } from '../../blobs/blob.js';
import { TwelveError } from '../../errors.js';
import { expectArgs, print, refuseRemote, type CommandSpec } from '../command.js';

export const prune: CommandSpec = {
  name: 'prune',
  summary: 'archive, then delete, finished threads older than a cut-off',
  usage: [
    'prune --completed-before <age|date> --archive <file.jsonl.gz> [--batch n] [--agent a] [--json]',
    'prune --completed-before <age|date> --delete-only [--batch n] [--agent a] [--json]',
    'prune --completed-before <age|date> --dry-run [--agent a] [--json]',
  ],
  flags: {
    'completed-before': 'threads finished (completed, failed, cancelled) and last updated before this: 30d, 12h, 90min, 2w, or an ISO date',
    archive: 'append their events, with the hash chain, to this gzip JSON-lines file before deleting (fsynced per batch)',
    'delete-only': 'delete without an archive: the audit trail of those threads is gone for good',
    batch: 'threads per transaction (default 500): smaller batches hold the database for less time',
    'dry-run': 'say what would go; write and delete nothing',
    force: 'accept a --completed-before in the future (every finished thread goes)',
    agent: 'only this agent\'s threads',
    json: 'the report as one JSON object',
  },
  details: [
    'Threads still running or waiting are never touched: each batch re-checks every thread\'s status inside its',
    'transaction. The archive is written and fsynced before its batch is deleted, and is never redacted, so',
    '`twelve audit verify --archive <file>` can check its hash chain. A run interrupted between the two leaves',
    'the batch in the database, and the next run archives it again (readers drop the repeated lines).',
    'The archive also holds the blobs the pruned events name (each model call\'s stored request, large tool results),',
    'so what the model saw survives. After the last batch, blobs no remaining event names are deleted (shared ones',
    'stay; so does any blob written in the last few minutes).',
    'The pruned threads\' signed chain heads go into the archive with their events (verify --archive checks them),',
    'and their model calls are folded into a per-day cost rollup, so `twelve costs` and /metrics keep their spend.',
    'Kept: eval proposals (they are eval cases), releases, daily spend. A cut-off in the future needs --force.',
  ].join('\n'),
  async run(args, flags) {
    expectArgs(args, 0, prune);
    refuseRemote('prune');
    if (!flags['completed-before']) throw new TwelveError('usage', 'twelve prune needs --completed-before <age|date> (e.g. 30d)');
    // The value first: a bad cut-off is the first thing to fix, whatever else is missing.
    const [{ parseCutoff }, { existsSync, statSync }, { dirname, resolve }] = await Promise.all([import('../../retention/cutoff.js'), import('node:fs'), import('node:path')]);
    const before = parseCutoff(flags['completed-before']);
    if (Date.parse(before) > Date.now() && !flags.force) {
      throw new TwelveError('usage', `--completed-before ${flags['completed-before']} is in the future (${before}): every finished thread would go; pass --force if that is what you mean`);
    }
    const dryRun = flags['dry-run'] ?? false;
    if (flags.archive !== undefined && flags['delete-only']) throw new TwelveError('usage', '--archive and --delete-only contradict each other: choose one');
    if (flags.archive === '') throw new TwelveError('usage', '--archive needs a file path (e.g. --archive threads-2026-01.jsonl.gz)');
    if (!dryRun && flags.archive === undefined && !flags['delete-only']) {
      throw new TwelveError('usage', 'twelve prune deletes threads and their audit trail: say where to keep it with --archive <file.jsonl.gz>, or pass --delete-only to delete without an archive');
    }
    let batch = 500;
    if (flags.batch !== undefined) {
      batch = Number(flags.batch);
      if (!Number.isInteger(batch) || batch < 1 || batch > 10_000) throw new TwelveError('usage', `--batch must be a whole number from 1 to 10000, got "${flags.batch}"`);
    }
    const archive = dryRun || flags.archive === undefined ? null : resolve(flags.archive);
    if (archive !== null) {
      // Checked before anything is deleted.
      const directory = dirname(archive);
      if (!existsSync(directory) || !statSync(directory).isDirectory()) throw new TwelveError('usage', `--archive ${flags.archive}: the directory ${directory} does not exist`);
      if (existsSync(archive) && statSync(archive).isDirectory()) throw new TwelveError('usage', `--archive ${flags.archive} is a directory: name a file in it`);
    }
    const [{ runPrune }, { openStoreForReading }] = await Promise.all([import('../../retention/prune.js'), import('../local.js')]);
    const store = await openStoreForReading();
    try {
      const report = await runPrune({ store, before, agent: flags.agent, batch, archive, dryRun });
      const written = archive !== null && existsSync(archive);
      if (flags.json) return print(JSON.stringify({ ...report, archive: written ? archive : null, before }));
      return print(describe(report, before, written));
    } finally {
      await store.close();
    }
  },
};

function describe(report: import('../../retention/prune.js').PruneReport, before: string, written: boolean): string {
  const what = `${report.threads} finished thread${report.threads === 1 ? '' : 's'} last updated before ${before} (${report.events} events)`;
  const split = (counts: Record<string, number>) => Object.entries(counts).map(([key, n]) => `${key} ${n}`).join(', ');
  const lines = [report.dryRun ? `would prune ${what}` : `pruned ${what} in ${report.batches} batch${report.batches === 1 ? '' : 'es'}, ${Math.round(report.ms)} ms`];
  if (report.threads > 0) lines.push(`  by status: ${split(report.byStatus)}`, `  by agent: ${split(report.byAgent)}`);
  if (!report.dryRun) {
    if (!report.archive) lines.push('  no archive (--delete-only)');
    else if (report.threads === 0 && !written) lines.push(`  nothing to archive: ${report.archive} not written`);
    else lines.push(`  archived to ${report.archive} (with ${report.blobsArchived} blob${report.blobsArchived === 1 ? '' : 's'})`);
  }
  if (!report.dryRun) lines.push(`  blobs deleted: ${report.blobsDeleted} (${formatBytes(report.blobBytesFreed)} freed): no remaining event names them`);
  if (report.skipped > 0) lines.push(`  left in place: ${report.skipped} (resumed, or held by a worker, since they were listed)`);
  return lines.join('\n');
}
