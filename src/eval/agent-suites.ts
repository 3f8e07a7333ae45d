/**
 * The eval suites of one agent, for listings (`twelve agents ls`): the config's defineEval
 * suites for it, and evals/<agent>.jsonl beside the config (once, when a config suite reads
 * that same file). Never throws: a suite that cannot be read says its first problem instead,
 * so one broken file does not hide the agents.
 */
import { existsSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import type { EvalSuite } from './define-eval.js';
import { readSuiteFile, suitePath } from './suite-file.js';

export interface AgentSuite {
  /** The name `twelve eval` takes: the suite's name; for evals/<agent>.jsonl the agent's, or the file's path when a config suite has that name. */
  name: string;
  source: 'config' | 'file';
  /** The .jsonl file, relative to the project; absent for a suite whose cases are in the config. */
  file?: string;
  /** How many cases; absent when the suite is invalid. */
  cases?: number;
  /** The first problem of an invalid suite (file and line). */
  problem?: string;
}

export interface AgentSuitesOptions {
  agent: string;
  /** The project's folder (of twelve.config.ts), when there is a project. */
  projectDir: string | undefined;
  suites: readonly EvalSuite[];
}

export function agentSuites({ agent, projectDir, suites }: AgentSuitesOptions): AgentSuite[] {
  const base = projectDir ?? process.cwd();
  const shown = (path: string) => relative(base, path) || path;
  const found: AgentSuite[] = [];
  const files = new Set<string>();
  for (const suite of suites.filter((s) => s.agent === agent)) {
    if (Array.isArray(suite.cases)) {
      found.push({ name: suite.name, source: 'config', cases: suite.cases.length });
      continue;
    }
    const file = resolve(suite.cases.file);
    files.add(file);
    found.push({ name: suite.name, source: 'config', file: shown(file), ...count(file, shown) });
  }
  const own = resolve(projectDir ? suitePath(projectDir, agent) : resolve('evals', `${agent}.jsonl`));
  if (!files.has(own) && existsSync(own)) {
    const name = suites.some((s) => s.name === agent) ? shown(own) : agent;
    found.push({ name, source: 'file', file: shown(own), ...count(own, shown) });
  }
  return found;
}

function count(file: string, shown: (path: string) => string): { cases: number } | { problem: string } {
  try {
    return { cases: readSuiteFile(file).length };
  } catch (error) {
    // Problems start with the absolute path; the project-relative one reads better in a listing.
    const message = error instanceof Error ? error.message : String(error);
    return { problem: message.split(file).join(shown(file)) };
  }
}
