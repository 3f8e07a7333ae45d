/**
 * `twelve eval <agent|suite>`: the CI gate. Runs the suite on the candidate (the working tree's
 * release, or a stored one) in an isolated store, finds the baseline's results (the project
 * store's latest run of the suite on that release, else the committed results file, else a run
 * of the stored release), prints them side by side, stores the run, and exits 1 on a regression.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Agent } from '../../agent/define-agent.js';
import type { AgentRelease } from '../../agent/release.js';
import { TwelveError } from '../../errors.js';
import type { Store } from '../../store/types.js';
import type { ResolvedSuite } from '../../eval/discover.js';
import type { CaseResult, EvalRunRecord, EvalSummary } from '../../eval/types.js';
import { print, type Flags } from '../command.js';

interface Baseline {
  releaseId: string;
  /** Where its results came from. */
  source: 'store' | 'results-file' | 'run';
  summary: EvalSummary;
  results: CaseResult[];
}

export async function evalRun(args: string[], flags: Flags): Promise<number> {
  if (args.length !== 1) throw new TwelveError('usage', 'usage: twelve eval <agent|suite-file> [--release current|<id>] [--baseline lock|<id>] [--model <provider:model>] [--threshold n] [--save] [--json] (see twelve eval --help)');
  const flagThreshold = parseThreshold(flags.threshold);
  if (flags.release !== undefined && !flags.release.trim()) throw new TwelveError('usage', '--release needs "current" or a release id (twelve releases ls)');
  if (flags.baseline !== undefined && !flags.baseline.trim()) throw new TwelveError('usage', '--baseline needs "lock" or a release id (twelve releases ls)');
  if (flags.save && flags.model) throw new TwelveError('usage', '--save keeps a release\'s results (the baseline CI compares with); a run on another model (--model) is not one: drop --save, or change the pin in the agent');
  const [{ projectConfigPath, withMcpTools }, project, { resolveSuite }, { loadConfig }, { createRelease }, { version }] = await Promise.all([
    import('../local.js'),
    import('../../config/project.js'),
    import('../../eval/discover.js'),
    import('../../config/env.js'),
    import('../../agent/release.js'),
    import('../../version.js'),
  ]);
  const configPath = await projectConfigPath(flags);
  const loaded = configPath ? await project.loadProjectConfig(configPath) : { agents: [], evals: [] };
  // Agents with MCP tools get their servers' tools (the release pins their schemas); an eval serves them from fixtures and fakes.
  const config = { ...loaded, agents: await withMcpTools(loaded.agents, flags) };
  const projectDir = configPath ? dirname(resolve(configPath)) : undefined;
  const resolved = resolveSuite({ target: args[0]!, projectDir, agents: config.agents, suites: config.evals ?? [] });
  const agentName = resolved.suite.agent;
  const threshold = flagThreshold ?? resolved.suite.threshold ?? 0;
  const found = config.agents.find((a) => a.name === agentName);
  const env = loadConfig(process.env, config.agents);
  const current = found ? createRelease(found, env.agents[agentName], version) : undefined;
  const { openStore } = await import('../../store/open.js');
  const store = openStore(env.databaseUrl);
  try {
    const { resolveCandidate } = await import('../../replay/candidate.js');
    const candidate = await resolveCandidate({ store, agent: agentName, release: flags.release ?? 'current', current });
    const notes: string[] = [];
    const candidateAgent = withModel(agentFor(candidate, current, found), flags.model);
    await checkModel(flags.model, candidateAgent);
    const candidateRun = await runOn(resolved, candidateAgent, candidate === current ? 'own' : { fakesFrom: found?.tools ?? new Map(), releaseId: candidate.releaseId });
    if (candidateRun.modelMode !== 'live') notes.push(`model mode ${candidateRun.modelMode}${process.env.TWELVE_MODEL_MODE ? '' : ' (the agent has recordings and TWELVE_MODEL_MODE is unset)'}`);
    if (flags.model && candidateRun.modelMode === 'replay') notes.push(`--model ${flags.model} in replay mode: only responses recorded from that model can answer; TWELVE_MODEL_MODE=record (or live) calls it`);
    const baseline = flags.baseline === undefined ? undefined : await findBaseline({ store, resolved, candidate, found, flags, projectDir, notes });
    const { compareResults } = await import('../../eval/compare.js');
    const comparison = compareResults(baseline?.results, candidateRun.results, threshold);
    const record: EvalRunRecord = {
      id: `ev_${Date.now().toString(36)}${randomBytes(4).toString('hex')}`,
      suite: resolved.suite.name,
      agent: agentName,
      releaseId: candidate.releaseId,
      model: flags.model ?? null,
      baselineReleaseId: baseline?.releaseId ?? null,
      createdAt: new Date().toISOString(),
      summary: candidateRun.summary,
      // The cases' threads lived in the isolated store, removed after the run: no ids that point nowhere.
      results: candidateRun.results.map(({ threadId: _threadId, ...rest }) => rest),
    };
    await store.saveEvalRun(record);
    if (flags.save) {
      const { saveResults } = await import('../../eval/results-file.js');
      saveResults(resolved.resultsPath, record);
      notes.push(`results saved to ${resolved.resultsPath} for release ${candidate.releaseId}`);
    }
    if (flags.json) {
      process.stdout.write(`${JSON.stringify(jsonReport(record, baseline, comparison, threshold, notes, candidateRun.modelMode))}\n`);
    } else {
      const [{ table }, { renderReport }] = await Promise.all([import('../format.js'), import('../../eval/report.js')]);
      print(`suite ${resolved.suite.name} (agent ${agentName}, ${resolved.cases.length} case${resolved.cases.length === 1 ? '' : 's'})${flags.model ? ` on model ${flags.model}` : ''}`);
      for (const note of notes) print(`note: ${note}`);
      const candidateSide = { label: 'candidate', releaseId: candidate.releaseId, summary: record.summary, results: record.results };
      const baselineSide = baseline ? { label: `baseline (${baseline.source})`, releaseId: baseline.releaseId, summary: baseline.summary, results: baseline.results } : undefined;
      print(renderReport(table, baselineSide, candidateSide, comparison, threshold));
      print(`stored as eval run ${record.id}`);
    }
    return comparison.failed ? 1 : 0;
  } finally {
    await store.close();
  }
}

/** --threshold, else the suite's own (defineEval), else 0. */
function parseThreshold(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!text.trim() || !Number.isFinite(value) || value < 0 || value > 1) throw new TwelveError('usage', `--threshold must be a number from 0 to 1 (the largest drop in the mean score allowed), got "${text}"`);
  return value;
}

/** The agent a release runs as: its own code, or a manifest's agent with the working tree's recordings. */
function agentFor(release: AgentRelease, current: AgentRelease | undefined, found: Agent | undefined): Agent {
  if (release === current) return found!;
  return { ...release.agent, recordingsDir: found?.recordingsDir };
}

/** --model: the same agent with another primary pin (checked like any pin: dated, unless the agent allows floating ones). */
function withModel(agent: Agent, model: string | undefined): Agent {
  if (model === undefined) return agent;
  return { ...agent, options: { ...agent.options, model } };
}

async function checkModel(model: string | undefined, agent: Agent): Promise<void> {
  if (model === undefined) return;
  const { parseModelId, assertPinned } = await import('../../model/model-id.js');
  try {
    const parsed = parseModelId(model, '--model');
    if (!agent.options.allowFloatingModel) assertPinned(parsed, '--model');
  } catch (error) {
    throw new TwelveError('usage', (error as Error).message);
  }
}

async function runOn(resolved: ResolvedSuite, agent: Agent, toolCode: 'own' | { fakesFrom: ReadonlyMap<string, import('../../agent/define-tool.js').Tool>; releaseId: string }) {
  const { runSuite } = await import('../../eval/run-suite.js');
  return runSuite({
    agent,
    cases: resolved.cases,
    scorers: resolved.suite.scorers,
    ...(resolved.suite.judge ? { judge: resolved.suite.judge } : {}),
    judgeRecordingsDir: join(resolved.dir, 'recordings'),
    toolCode,
    ...(resolved.suite.concurrency ? { concurrency: resolved.suite.concurrency } : {}),
  });
}

interface FindBaselineOptions {
  store: Store;
  resolved: ResolvedSuite;
  candidate: AgentRelease;
  found: Agent | undefined;
  flags: Flags;
  projectDir: string | undefined;
  notes: string[];
}

/** The baseline release and its results, or undefined (said in a note) when there are none. */
async function findBaseline({ store, resolved, candidate, found, flags, projectDir, notes }: FindBaselineOptions): Promise<Baseline | undefined> {
  const suite = resolved.suite.name;
  const { readResultsFile } = await import('../../eval/results-file.js');
  const file = readResultsFile(resolved.resultsPath);
  const storedRuns = (await store.listEvalRuns({ suite, agent: resolved.suite.agent, limit: 100 })).filter((r) => r.model === null);
  let releaseId: string;
  if (flags.baseline === 'lock') {
    const lockPath = join(projectDir ?? process.cwd(), 'twelve.lock.json');
    if (!existsSync(lockPath)) {
      // A gate asked to compare with the lock must not pass because the lock went missing.
      throw new TwelveError('usage', `--baseline lock: there is no ${lockPath} (twelve build writes it; commit it for CI)`);
    }
    const { parseLock } = await import('../../release/lockfile.js');
    const locked = parseLock(readFileSync(lockPath, 'utf8'), lockPath).agents[resolved.suite.agent]?.releaseId;
    if (!locked) {
      throw new TwelveError('usage', `--baseline lock: ${lockPath} has no agent ${resolved.suite.agent} (run twelve build)`);
    }
    releaseId = locked;
    if (releaseId === candidate.releaseId && !flags.model) {
      // Nothing changed since the lock: the useful comparison is with the release before.
      const other = [...storedRuns, ...(file?.runs ?? [])].filter((r) => r.releaseId !== candidate.releaseId).sort((a, b) => b.createdAt.localeCompare(a.createdAt))[0];
      if (!other) {
        notes.push(`the lock's release ${releaseId} is the candidate, and no saved results of another release exist: no baseline, ran the candidate only`);
        return undefined;
      }
      notes.push(`the lock's release ${releaseId} is the candidate: comparing with the newest saved results of another release, ${other.releaseId}`);
      releaseId = other.releaseId;
    }
  } else {
    releaseId = flags.baseline!;
  }
  const stored = storedRuns.find((r) => r.releaseId === releaseId);
  if (stored) return { releaseId, source: 'store', summary: stored.summary, results: stored.results };
  const saved = file?.runs.find((r) => r.releaseId === releaseId);
  if (saved) return { releaseId, source: 'results-file', summary: saved.summary, results: saved.results };
  const manifest = await store.getRelease(releaseId);
  if (manifest && manifest.agent === resolved.suite.agent) {
    const { releaseFromManifest } = await import('../../replay/release-from-manifest.js');
    const release = releaseFromManifest(manifest.manifest, { releaseId, ...(found?.options.renderContext ? { renderContext: found.options.renderContext } : {}) });
    notes.push(`baseline ${releaseId}: no saved results, ran it from its stored manifest (tools from fixtures and fakes only)`);
    const run = await runOn(resolved, { ...release.agent, recordingsDir: found?.recordingsDir }, { fakesFrom: found?.tools ?? new Map(), releaseId });
    return { releaseId, source: 'run', summary: run.summary, results: run.results };
  }
  // A baseline that names nothing (a typo, another agent's release) is refused, not skipped: the gate would pass on no comparison.
  if (manifest) throw new TwelveError('usage', `--baseline ${releaseId} is a release of agent ${manifest.agent}, not ${resolved.suite.agent}`);
  throw new TwelveError('usage', `--baseline ${releaseId}: no results of that release in the store or ${resolved.resultsPath}, and the store has no manifest of it to run (twelve releases ls lists the releases)`);
}

function jsonReport(record: EvalRunRecord, baseline: Baseline | undefined, comparison: import('../../eval/compare.js').Comparison, threshold: number, notes: string[], modelMode: string) {
  const before = new Map((baseline?.results ?? []).map((r) => [r.id, r]));
  const regressed = new Set(comparison.regressions.map((r) => r.id));
  return {
    runId: record.id,
    suite: record.suite,
    agent: record.agent,
    candidate: { releaseId: record.releaseId, model: record.model, modelMode, summary: record.summary },
    baseline: baseline ? { releaseId: baseline.releaseId, source: baseline.source, summary: baseline.summary } : null,
    threshold,
    scoreDrop: comparison.scoreDrop,
    // Without a baseline the gate is "every case passes": those failing are the reasons, not regressions.
    regressions: baseline ? comparison.regressions : [],
    failing: record.results.filter((r) => !r.pass).map((r) => r.id),
    passed: !comparison.failed,
    notes,
    cases: record.results.map((r) => ({ id: r.id, regressed: regressed.has(r.id), baseline: before.get(r.id) ?? null, candidate: r })),
  };
}
