/**
 * evals/<suite>.results.json: a suite's results per release, committed beside the suite so a
 * clean clone (CI) has a baseline without a database. `twelve eval --save` writes it: the
 * latest run per release, the 20 most recent releases, newest first.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { TwelveError } from '../errors.js';
import { stablePrettyJson } from '../util/stable-json.js';
import type { EvalRunRecord } from './types.js';

export const keptReleases = 20;

export interface ResultsFile {
  version: 1;
  suite: string;
  agent: string;
  /** Newest first, one per release. */
  runs: EvalRunRecord[];
}

export function readResultsFile(path: string): ResultsFile | undefined {
  if (!existsSync(path)) return undefined;
  let parsed: ResultsFile;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8')) as ResultsFile;
  } catch (error) {
    throw new TwelveError('usage', `${path} is not JSON (${(error as Error).message}); write it again with twelve eval <agent> --save`);
  }
  if (parsed?.version !== 1 || !Array.isArray(parsed.runs)) throw new TwelveError('usage', `${path} is not an eval results file (version 1 with runs); write it again with twelve eval <agent> --save`);
  return parsed;
}

/** The file with `run` as its release's result (replacing an older one), trimmed to the newest releases. */
export function saveResults(path: string, run: EvalRunRecord): void {
  const existing = readResultsFile(path);
  const runs = [run, ...(existing?.runs ?? []).filter((r) => r.releaseId !== run.releaseId)].slice(0, keptReleases);
  const file: ResultsFile = { version: 1, suite: run.suite, agent: run.agent, runs };
  writeFileSync(`${path}.tmp`, stablePrettyJson(file));
  renameSync(`${path}.tmp`, path);
}
