/**
 * `twelve eval proposals`: the cases people's corrections proposed (a rejection with a comment,
 * guidance after an escalation, an edited or sent-back output in review). `accept` writes the
 * draft to the suite file first, then marks the proposal accepted; `dismiss` drops it. Local
 * store, or TWELVE_URL (where accept writes into the server project's suite file).
 */
import { dirname, relative, resolve } from 'node:path';
import { TwelveError } from '../../errors.js';
import type { ProposalRecord } from '../../eval/types.js';
import { defaultUser, print, usageError, type Flags } from '../command.js';
import { evalCommand } from './eval.js';

export async function evalProposals(args: string[], flags: Flags): Promise<number> {
  const [sub = 'ls', ...rest] = args;
  const { openStoreForReading, projectConfigPath } = await import('../local.js');
  const store = await openStoreForReading();
  try {
    if (sub === 'ls' || sub === 'list') {
      if (rest.length) throw usageError(evalCommand);
      return printProposals(await store.listProposals({ status: 'pending', ...(flags.agent ? { agent: flags.agent } : {}), limit: parseLimit(flags) }), flags);
    }
    const id = proposalArg(rest);
    const by = flags.as ?? defaultUser();
    if (sub === 'accept') {
      const { acceptProposal, pendingProposal } = await import('../../eval/accept-proposal.js');
      const proposal = await pendingProposal(store, id);
      const configPath = await projectConfigPath(flags);
      const path = flags.suite ? resolve(flags.suite) : await defaultSuite(proposal.agent, configPath);
      // Recorded relative to the project when it is inside it (what a reader of the proposal recognises).
      const inProject = configPath ? relative(dirname(resolve(configPath)), path) : '..';
      const name = inProject.startsWith('..') ? path : inProject;
      const accepted = await acceptProposal({ store, id, by, path, suite: name });
      return print(`accepted ${id}: case ${proposal.draft.id} ${accepted.written ? 'written to' : 'was already in'} ${accepted.path}`);
    }
    if (sub === 'dismiss') {
      const { dismissProposal } = await import('../../eval/accept-proposal.js');
      await dismissProposal({ store, id, by });
      return print(`dismissed ${id}`);
    }
    throw usageError(evalCommand);
  } finally {
    await store.close();
  }
}

export async function evalProposalsRemote(args: string[], flags: Flags): Promise<number> {
  const [sub = 'ls', ...rest] = args;
  const { withClient, noteIgnoredAs } = await import('../remote/connection.js');
  if (sub === 'ls' || sub === 'list') {
    if (rest.length) throw usageError(evalCommand);
    const limit = parseLimit(flags);
    return withClient(async (client) => printProposals((await client.listProposals({ status: 'pending', ...(flags.agent ? { agent: flags.agent } : {}), limit })).proposals as ProposalRecord[], flags));
  }
  const id = proposalArg(rest);
  if (sub === 'accept') {
    return withClient(async (client) => {
      await noteIgnoredAs(client, flags);
      const accepted = await client.acceptProposal(id, flags.suite ? { suite: flags.suite } : {});
      return print(`accepted ${id}: case ${accepted.proposal.draft.id} ${accepted.written ? 'written to' : 'was already in'} ${accepted.suite} (in the server's project)`);
    });
  }
  if (sub === 'dismiss') {
    return withClient(async (client) => {
      await noteIgnoredAs(client, flags);
      await client.dismissProposal(id);
      return print(`dismissed ${id}`);
    });
  }
  throw usageError(evalCommand);
}

function proposalArg(rest: string[]): string {
  if (rest.length !== 1) throw usageError(evalCommand);
  return rest[0]!;
}

/** evals/<agent>.jsonl beside the project config. */
async function defaultSuite(agent: string, configPath: string | undefined): Promise<string> {
  if (!configPath) throw new TwelveError('usage', 'no twelve.config.ts found, so there is no default suite file: pass --suite <file.jsonl>');
  const { suitePath } = await import('../../eval/suite-file.js');
  return suitePath(dirname(resolve(configPath)), agent);
}

function parseLimit(flags: Flags): number {
  const limit = flags.limit === undefined ? 100 : Number(flags.limit);
  if (!Number.isInteger(limit) || limit <= 0 || limit > 500) throw new TwelveError('usage', `--limit must be an integer from 1 to 500, got "${flags.limit}"`);
  return limit;
}

async function printProposals(proposals: ProposalRecord[], flags: Flags): Promise<number> {
  if (flags.json) {
    for (const proposal of proposals) process.stdout.write(`${JSON.stringify(proposal)}\n`);
    return 0;
  }
  if (proposals.length === 0) return print(`no pending proposals${flags.agent ? ` for ${flags.agent}` : ''} (a rejection with a comment, guidance after an escalation or a review edit proposes one)`);
  const { table } = await import('../format.js');
  const rows = [['ID', 'AGENT', 'KIND', 'THREAD', 'WHO', 'NOTE']];
  for (const p of proposals) rows.push([p.id, p.agent, p.kind, p.threadId, p.draft.source?.by ?? '', clip(p.draft.note ?? '', 80)]);
  print(table(rows));
  return print(`accept one into the suite: twelve eval proposals accept <id> (or dismiss <id>)`);
}

function clip(text: string, max: number): string {
  const line = text.replace(/\s+/g, ' ');
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}
