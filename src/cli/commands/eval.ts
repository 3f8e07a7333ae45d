/**
 * `twelve eval`: run an agent's eval suite against a baseline (the CI gate for prompt, model
 * and tool changes), see past runs, turn threads and people's corrections into cases.
 * Each subcommand lives in its own file (eval-run, eval-history, eval-add, eval-proposals).
 */
import { usageError, type CommandSpec } from '../command.js';


export const evalCommand: CommandSpec = {
  name: 'eval',
  summary: 'run an eval suite against a baseline; past runs; threads and corrections as cases',
  usage: [
    'eval <agent|suite-file> [--release current|<id>] [--baseline lock|<id>] [--model <provider:model>] [--threshold n] [--save] [--json]',
    'eval history [<agent>] [--limit n] [--json]',
    'eval add <thread> [--expect-output <json|@file>] [--expect-tools] [--suite file]',
    'eval proposals [ls] [--agent a] [--limit n] [--json] | eval proposals accept <id> [--suite file] [--as who] | eval proposals dismiss <id> [--as who]',
  ],
  flags: {
    release: 'the candidate: current (default, the working tree) or a stored release id',
    baseline: 'what the candidate is compared with: lock (the release in twelve.lock.json) or a release id; its results come from the store, else evals/<agent>.results.json, else a run of its stored manifest. Without it, every case must pass',
    model: 'run the candidate on this model pin instead of the agent\'s (try a successor before the current one retires)',
    threshold: 'largest drop in the mean score (0 to 1) allowed before the run counts as a regression (default: the suite\'s defineEval threshold, else 0)',
    save: 'write the candidate\'s results to evals/<suite>.results.json beside the suite (the baseline CI compares with; the latest run of each of the last 20 releases)',
    json: 'one JSON object',
    limit: 'history, proposals: at most this many',
    agent: 'proposals: only this agent\'s',
    'expect-output': 'add: the output the case expects (JSON, or @file); default: the thread\'s output',
    'expect-tools': 'add: expect the tools the thread called to be called again',
    suite: 'add, accept: the suite file to write to (default evals/<agent>.jsonl beside twelve.config.ts; with TWELVE_URL, accept takes a path inside the server\'s project)',
    as: 'accept, dismiss: who decides (locally; default TWELVE_USER or USER; with TWELVE_URL the API key names you)',
  },
  details: `A suite is a defineEval suite named in the config's evals, or evals/<agent>.jsonl (one case per line), or a path
to a .jsonl file named after its agent. Every case runs as a real thread on an isolated SQLite store that is removed
afterwards: models replay the agent's recordings when TWELVE_MODEL_MODE is unset, tools are served by the case's
fixtures, then the tool's fake, then the tool itself only when it is pure (a side-effect tool with none is an error),
and approvals, answers and reviews come from the case's humans script. Criteria in expect.judge are graded by the
suite's judge model (defineEval's judge, or TWELVE_EVAL_JUDGE_MODEL), recorded and replayed from recordings/ beside
the suite. Each run is stored in the project store.
Exit 0 when nothing regressed (without a baseline: every case passes); 1 on a regression (a case that passed on the
baseline fails, or the mean score drops more than --threshold), naming each case; 2 on usage errors.`,
  async run(args, flags) {
    const [first, ...rest] = args;
    if (first === undefined) throw usageError(evalCommand);
    if (first === 'history') return (await import('./eval-history.js')).evalHistory(rest, flags);
    if (first === 'add') return (await import('./eval-add.js')).evalAdd(rest, flags);
    if (first === 'proposals') return (await import('./eval-proposals.js')).evalProposals(rest, flags);
    return (await import('./eval-run.js')).evalRun(args, flags);
  },
  remoteHelp:
    'With TWELVE_URL and TWELVE_API_KEY set, history, add and proposals use that Twelve server (its store, its project\'s suite files); a suite still runs here, on its own isolated store, and its run is stored in the local store (TWELVE_DATABASE_URL).',
  // History, add and proposals read the server's store; a suite always runs here (on its own isolated store).
  async remote(args, flags) {
    const [first, ...rest] = args;
    if (first === undefined) throw usageError(evalCommand);
    if (first === 'history') return (await import('./eval-history.js')).evalHistoryRemote(rest, flags);
    if (first === 'add') return (await import('./eval-add.js')).evalAddRemote(rest, flags);
    if (first === 'proposals') return (await import('./eval-proposals.js')).evalProposalsRemote(rest, flags);
    return (await import('./eval-run.js')).evalRun(args, flags);
  },
};
