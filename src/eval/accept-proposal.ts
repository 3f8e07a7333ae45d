/**
 * Accepting a proposal: its draft case goes into a suite file, then the proposal is marked
 * accepted. The file is written first: a crash in between leaves a case in the suite and a
 * proposal still pending, and accepting again finds the same case already there and only
 * marks it (never two lines). A proposal someone else decided meanwhile is a conflict that
 * says the case was written anyway. Shared by the CLI (local store) and the API.
 */
import { existsSync } from 'node:fs';
import { isAbsolute, relative, resolve } from 'node:path';
import { TwelveError } from '../errors.js';
import { proposalDecided } from '../store/quality.js';
import type { Store } from '../store/types.js';
import { stableStringify } from '../util/stable-json.js';
import { appendCase, readSuiteFile, suitePath } from './suite-file.js';
import type { ProposalRecord } from './types.js';

export interface AcceptedProposal {
  proposal: ProposalRecord;
  /** The suite file the case is in. */
  path: string;
  /** False when the file already had this very case (an earlier accept that was not marked). */
  written: boolean;
}

/** The pending proposal `id`, or a not_found / conflict error. */
export async function pendingProposal(store: Store, id: string): Promise<ProposalRecord> {
  const proposal = await store.getProposal(id);
  if (!proposal) throw new TwelveError('not_found', `no proposal ${id} (twelve eval proposals lists the pending ones)`);
  if (proposal.status !== 'pending') throw proposalDecided(proposal);
  return proposal;
}

/**
 * Writes the proposal's case to `path` and marks it accepted by `by`; `suite` is the name
 * recorded on the proposal (the path relative to the project, where there is one).
 */
export async function acceptProposal(options: { store: Store; id: string; by: string; path: string; suite: string }): Promise<AcceptedProposal> {
  const { store, id, by, path, suite } = options;
  const proposal = await pendingProposal(store, id);
  const draft = proposal.draft;
  const same = existsSync(path) ? readSuiteFile(path).find((c) => c.id === draft.id) : undefined;
  // The same id with other content is appendCase's conflict (rename one of them).
  const written = !(same && stableStringify(same) === stableStringify(draft));
  if (written) appendCase(path, draft);
  try {
    const decided = await store.decideProposal(id, { status: 'accepted', by, suite });
    if (!decided) throw new TwelveError('not_found', `proposal ${id} disappeared while it was being accepted; case ${draft.id} is in ${path}`);
    return { proposal: decided, path, written };
  } catch (error) {
    if (!TwelveError.is(error, 'conflict')) throw error;
    throw new TwelveError('conflict', `case ${draft.id} was written to ${path}, but ${error.message}`, { details: { ...error.details, path, caseId: draft.id } });
  }
}

export async function dismissProposal(options: { store: Store; id: string; by: string }): Promise<ProposalRecord> {
  await pendingProposal(options.store, options.id);
  const decided = await options.store.decideProposal(options.id, { status: 'dismissed', by: options.by });
  if (!decided) throw new TwelveError('not_found', `no proposal ${options.id}`);
  return decided;
}

/**
 * The suite file for an agent in a project: `suite` relative to the project directory (refused
 * when it leads outside it: an API caller must not write anywhere else), or evals/<agent>.jsonl.
 */
export function projectSuite(projectDir: string, agent: string, suite?: string): { path: string; name: string } {
  const root = resolve(projectDir);
  const path = suite === undefined ? suitePath(root, agent) : resolve(root, suite);
  const name = relative(root, path);
  if (!name || name.startsWith('..') || isAbsolute(name)) {
    throw new TwelveError('invalid_request', `suite "${suite}" is outside the project directory; name a file inside it, like evals/${agent}.jsonl`);
  }
  if (!name.endsWith('.jsonl')) throw new TwelveError('invalid_request', `suite "${suite}" must be a .jsonl file (one case per line)`);
  return { path, name };
}
