/**
 * The preflight of `twelve run`: before a thread is created, check that every model of the
 * agent's chain can be called with this configuration (a key or base URL per provider, or a
 * recordings directory to replay from), so a missing key is one clear error with exit 2
 * instead of a thread that waits, blocked, for someone to fix it. No network: a key that is
 * set but wrong still shows up at the first call (and blocks the thread there).
 */
import { existsSync } from 'node:fs';
import type { AgentRelease } from '../agent/release.js';
import { fallbackOnOf } from '../agent/fallback-options.js';
import { agentEnvPrefix } from '../config/env.js';
import { TwelveError } from '../errors.js';
import type { ModelCaller } from './call-model.js';

/** One line per problem; empty when every model of the chain can be called. */
export function modelProblems(caller: ModelCaller, release: AgentRelease): string[] {
  if (caller.mode === 'replay') {
    const directory = caller.recordings(release).directory;
    if (existsSync(directory)) return [];
    return [
      `TWELVE_MODEL_MODE=replay, but the recordings directory ${directory} does not exist: record the agent first (TWELVE_MODEL_MODE=record with a live provider key), or point TWELVE_RECORDINGS_DIR at its recordings`,
    ];
  }
  const problems: string[] = [];
  for (const [index, model] of release.models.entries()) {
    const problem = caller.resolver.problem(model);
    if (!problem) continue;
    const fallback = index > 0 ? ` (a fallback: to run without it, set ${agentEnvPrefix(release.agent.name)}FALLBACK_MODELS to the ones you can call, or to nothing)` : '';
    problems.push(`${problem.message}${fallback}`);
  }
  return problems;
}

/**
 * Throws config_invalid (exit 2) listing every problem, when a model of the chain cannot be called.
 * An agent whose non-LLM fallback answers when the models are blocked still runs: `warn` is told
 * instead, and the thread gets the fallback's answer (recorded as fallback_used, reason blocked).
 */
export function assertModelsCallable(caller: ModelCaller, release: AgentRelease, warn?: (message: string) => void): void {
  const problems = modelProblems(caller, release);
  if (problems.length === 0) return;
  if (fallbackOnOf(release.agent.options).includes('blocked') && warn) {
    warn(`agent ${release.agent.name} cannot call its models; its non-LLM fallback will answer:\n  - ${problems.join('\n  - ')}`);
    return;
  }
  throw new TwelveError('config_invalid', `agent ${release.agent.name} cannot call its models, so no thread was created:\n  - ${problems.join('\n  - ')}`, {
    details: { agent: release.agent.name, problems },
  });
}
