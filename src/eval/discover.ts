/**
 * Which suite `twelve eval <x>` means: a defineEval suite named x in the project config, else
 * evals/<x>.jsonl beside the config (x an agent), else x as the path of a .jsonl file whose name
 * is the agent's. An unknown x is a usage error listing the agents and suites there are.
 */
import { existsSync, readdirSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { Agent } from '../agent/define-agent.js';
import { TwelveError } from '../errors.js';
import { defineEval, type EvalSuite } from './define-eval.js';
import { readSuiteFile, suitePath } from './suite-file.js';
import type { EvalCase } from './types.js';

export interface ResolvedSuite {
  suite: EvalSuite;
  cases: EvalCase[];
  /** The folder of the suite's file (or evals/ beside the config): judge recordings and results live there. */
  dir: string;
  /** Where --save writes the results per release: <dir>/<suite>.results.json. */
  resultsPath: string;
}

export interface ResolveSuiteOptions {
  target: string;
  /** The project's folder (of twelve.config.ts), when there is a project. */
  projectDir: string | undefined;
  agents: Agent[];
  suites: EvalSuite[];
  env?: NodeJS.ProcessEnv;
}

export function resolveSuite({ target, projectDir, agents, suites, env = process.env }: ResolveSuiteOptions): ResolvedSuite {
  const evalsDir = join(projectDir ?? process.cwd(), 'evals');
  const named = suites.find((s) => s.name === target);
  if (named) {
    const file = Array.isArray(named.cases) ? undefined : resolve(named.cases.file);
    const dir = file ? dirname(file) : evalsDir;
    return { suite: withJudgeDefault(named, env), cases: file ? readSuiteFile(file) : (named.cases as EvalCase[]), dir, resultsPath: join(dir, `${named.name}.results.json`) };
  }
  const isFile = target.endsWith('.jsonl');
  const agentName = isFile ? basename(target, '.jsonl') : target;
  const agent = agents.find((a) => a.name === agentName);
  if (isFile) {
    const file = resolve(target);
    if (!agent) throw new TwelveError('usage', `${target}: a suite file is named after its agent, and there is no agent "${agentName}" in this project${known(agents, suites, evalsDir)}`);
    if (!existsSync(file)) throw new TwelveError('usage', `no eval suite at ${file}`);
    return fromFile(file, agentName, env);
  }
  if (!agent) throw new TwelveError('usage', `no eval suite or agent named "${target}"${known(agents, suites, evalsDir)}`);
  const file = projectDir ? suitePath(projectDir, agentName) : resolve('evals', `${agentName}.jsonl`);
  if (!existsSync(file)) {
    throw new TwelveError('usage', `agent ${agentName} has no eval suite: write cases to ${file} (one JSON case per line) or list a defineEval({ agent: '${agentName}', ... }) in the config's evals${known(agents, suites, evalsDir)}`);
  }
  return fromFile(file, agentName, env);
}

function fromFile(file: string, agent: string, env: NodeJS.ProcessEnv): ResolvedSuite {
  const cases = readSuiteFile(file);
  const suite = withJudgeDefault(defineEval({ agent, cases: file }), env);
  return { suite, cases, dir: dirname(file), resultsPath: join(dirname(file), `${agent}.results.json`) };
}

/** A suite without its own judge uses TWELVE_EVAL_JUDGE_MODEL (a JSONL suite has no other way to name one). */
function withJudgeDefault(suite: EvalSuite, env: NodeJS.ProcessEnv): EvalSuite {
  const model = env.TWELVE_EVAL_JUDGE_MODEL;
  return suite.judge || !model ? suite : { ...suite, judge: { model } };
}

/** "; agents: a, b; suites: x (config), evals/y.jsonl" */
function known(agents: Agent[], suites: EvalSuite[], evalsDir: string): string {
  const files = existsSync(evalsDir) ? readdirSync(evalsDir).filter((name) => name.endsWith('.jsonl')).map((name) => `evals/${name}`) : [];
  const suiteNames = [...suites.map((s) => `${s.name} (config)`), ...files];
  return `; agents: ${agents.map((a) => a.name).join(', ') || 'none'}; suites: ${suiteNames.join(', ') || 'none'}`;
}
