/**
 * `twelve audit verify | export`: checks the tamper-evident hash chain of the event log (one thread,
 * every thread, or an export/prune archive) and exports a thread with its chain and signed heads so
 * a third party can check it. Exit 0 intact, 1 tampered, 2 bad usage: for CI and cron.
 */
import { TwelveError } from '../../errors.js';
import { print, refuseRemote, usageError, type CommandSpec, type Flags } from '../command.js';
import type { AuditProblem, ThreadVerdict } from '../../audit/verify.js';

export const audit: CommandSpec = {
  name: 'audit',
  summary: 'verify the tamper-evident event log (hash chain, signed heads); export a thread with its chain',
  usage: ['audit verify (--thread <id> | --all | --archive <file.jsonl[.gz]>) [--json]', 'audit export <thread> [--format jsonl] [--redact]'],
  flags: {
    thread: 'verify: this thread only',
    all: 'verify: every thread of the store (streamed in pages)',
    archive: 'verify: an export (twelve audit export) or a prune archive, gzipped or not, instead of the store',
    format: 'export: jsonl (the only format: one event per line with its hash, then the signed heads)',
    json: 'verify: one JSON object with the counts and every problem',
    redact: 'export: apply TWELVE_REDACT_PATTERNS (a copy to share: it cannot be verified, its first line says so)',
  },
  details: `Every event stores a hash chained to the previous event of its thread, over its thread, seq, type,
time, release and data (so people's decisions, releases and costs are covered). verify recomputes it and
names each problem: edited, deleted, inserted, reordered, unhashed (a stripped hash), tail_cut, signature. Events
written before the chain existed are counted as not covered. With TWELVE_AUDIT_SIGNING_KEY the runtime
signs chain heads (every TWELVE_AUDIT_SIGN_EVERY events and when a thread finishes); with the public key
(TWELVE_AUDIT_PUBLIC_KEY, or derived from the signing key) verify checks them, which also catches a cut
tail or a chain recomputed after an edit. A prune archive's blob lines (stored requests, large results) are
checked to hash to their names (problem: blob). An export (like a prune archive) is the exact log, so it can be
verified; --redact gives a redacted copy for sharing, which cannot be. Exit codes: 0 intact, 1 tampered, 2 bad usage.`,
  async run(args, flags) {
    refuseRemote('audit');
    const [sub, ...rest] = args;
    if (sub === 'verify') return verify(rest, flags);
    if (sub === 'export') return exportThread(rest, flags);
    throw usageError(audit);
  },
};

async function verify(rest: string[], flags: Flags): Promise<number> {
  const sources = [flags.thread !== undefined, flags.all === true, flags.archive !== undefined].filter(Boolean).length;
  if (rest.length || sources !== 1 || flags.format !== undefined || flags.redact) {
    throw new TwelveError('usage', 'twelve audit verify takes exactly one of --thread <id>, --all or --archive <file> (see twelve audit --help)');
  }
  const { loadConfig } = await import('../../config/env.js');
  const publicKeys = loadConfig(process.env).audit.publicKeys;
  const started = performance.now();
  const totals = { threads: 0, events: 0, covered: 0, notCovered: 0, headsChecked: 0, headsUnknownKey: 0 };
  const problems: AuditProblem[] = [];
  const take = (v: ThreadVerdict) => {
    totals.threads += 1;
    totals.events += v.events;
    totals.covered += v.covered;
    totals.notCovered += v.notCovered;
    totals.headsChecked += v.headsChecked;
    totals.headsUnknownKey += v.headsUnknownKey ?? 0;
    problems.push(...v.problems);
    if (!flags.json) for (const p of v.problems) process.stdout.write(`${p.threadId} seq ${p.seq}: ${p.kind}: ${p.message}\n`);
  };
  const auditLog = await import('../../audit/audit-log.js');
  if (flags.archive !== undefined) {
    for (const v of await auditLog.verifyArchive(flags.archive, publicKeys)) take(v);
  } else {
    const { openStoreForReading } = await import('../local.js');
    const store = await openStoreForReading();
    try {
      if (flags.thread !== undefined) take(await auditLog.verifyStoredThread(store, flags.thread, publicKeys));
      else for await (const v of auditLog.verifyStore(store, { publicKeys })) take(v);
    } finally {
      await store.close();
    }
  }
  if (publicKeys.length && totals.headsUnknownKey > 0) {
    process.stderr.write(`warning: ${totals.headsUnknownKey} signed head${totals.headsUnknownKey === 1 ? ' was' : 's were'} signed by a key other than TWELVE_AUDIT_PUBLIC_KEY's and could not be checked\n`);
  }
  const ms = performance.now() - started;
  const perSecond = Math.round(totals.events / Math.max(ms / 1000, 1e-6));
  const affected = new Set(problems.map((p) => p.threadId)).size;
  if (flags.json) {
    print(JSON.stringify({ intact: problems.length === 0, ...totals, signedHeadsChecked: publicKeys.length > 0, problems, ms: Math.round(ms), eventsPerSecond: perSecond }));
  } else {
    const coverage = totals.notCovered ? ` (${totals.notCovered} written before the chain, not covered)` : '';
    const heads = publicKeys.length ? `${totals.headsChecked} signed head${totals.headsChecked === 1 ? '' : 's'} checked` : 'signed heads not checked (no TWELVE_AUDIT_PUBLIC_KEY or TWELVE_AUDIT_SIGNING_KEY)';
    const verdict = problems.length === 0 ? 'intact' : `TAMPERED: ${problems.length} problem${problems.length === 1 ? '' : 's'} in ${affected} thread${affected === 1 ? '' : 's'}`;
    print(`${verdict}: ${totals.threads} thread${totals.threads === 1 ? '' : 's'}, ${totals.events} events${coverage}; ${heads}; ${Math.round(ms)} ms (${perSecond} events/s)`);
  }
  return problems.length === 0 ? 0 : 1;
}

async function exportThread(rest: string[], flags: Flags): Promise<number> {
  if (rest.length !== 1 || flags.thread !== undefined || flags.all || flags.archive !== undefined || flags.json) throw usageError(audit);
  if (flags.format !== undefined && flags.format !== 'jsonl') throw new TwelveError('usage', `--format: only jsonl is supported (got "${flags.format}")`);
  const { openStoreForReading } = await import('../local.js');
  const { exportThreadLines } = await import('../../audit/audit-log.js');
  const store = await openStoreForReading();
  // A redacted copy: its first line says so, and verify refuses it (the links no longer match).
  const { Redactor } = await import('../../config/redact.js');
  const { redactedExportHeader, eventLine, parseEventLine } = await import('../../audit/export-format.js');
  const redactor = flags.redact ? Redactor.forViews(process.env) : undefined;
  try {
    if (redactor) process.stdout.write(`${JSON.stringify(redactedExportHeader)}\n`);
    for await (const exact of exportThreadLines(store, rest[0]!)) {
      const record = redactor ? parseEventLine(exact) : undefined;
      const line = record?.kind === 'event' ? eventLine(redactor!.scrub(record.event)) : exact;
      if (!process.stdout.write(`${line}\n`)) await new Promise((resolve) => process.stdout.once('drain', resolve));
    }
  } finally {
    await store.close();
  }
  return 0;
}
