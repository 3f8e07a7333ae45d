/** twelve.lock.json in process: what it records, that it is byte-stable, and the check serve/worker/run make at start. */
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineAgent, defineTool } from '../src/index.js';
import { createRelease } from '../src/agent/release.js';
import { loadConfig, releaseVariables } from '../src/config/env.js';
import type { Logger } from '../src/log/logger.js';
import { buildLock, parseLock, renderLock, hashText } from '../src/release/lockfile.js';
import { diffLocks, formatDrift } from '../src/release/lock-diff.js';
import { enforceLock } from '../src/release/lock-check.js';
import { repoRoot } from './support/cli.js';
import { tempDir } from './support/temp-dir.js';

function payerAgent(dir: string, promptText = 'Pay the invoice in {{input}}.') {
  mkdirSync(join(dir, 'prompts'), { recursive: true });
  writeFileSync(join(dir, 'prompts', 'payer.md'), promptText);
  const pay = defineTool({
    name: 'pay',
    description: 'Pay an invoice.',
    input: z.object({ invoice: z.string() }),
    output: z.object({ paymentId: z.string() }),
    effect: 'idempotent',
    run: async ({ invoice }) => ({ paymentId: `pm_${invoice}` }),
  });
  return defineAgent({
    name: 'payer',
    purpose: 'Pay one invoice.',
    model: 'openai:gpt-4o-2024-08-06',
    fallbackModels: ['anthropic:claude-sonnet-4-5-20250929', 'scripted:payer'],
    prompt: join(dir, 'prompts', 'payer.md'),
    tools: [pay],
    output: z.object({ paid: z.boolean() }),
    limits: { maxSteps: 5 },
  });
}

function releasesOf(agent: ReturnType<typeof payerAgent>, env: NodeJS.ProcessEnv = {}) {
  return [createRelease(agent, loadConfig(env, [agent]).agents[agent.name], '0.1.0')];
}

const installed = (name: string) => (JSON.parse(readFileSync(join(repoRoot, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;

describe('the lock file', () => {
  it('is the same bytes on every build: sorted keys, two-space indent, a trailing newline, paths relative to the lock', () => {
    const dir = tempDir();
    const agent = payerAgent(dir);
    const first = renderLock(buildLock({ releases: releasesOf(agent), env: {}, projectDir: dir, lockDir: dir }));
    const second = renderLock(buildLock({ releases: releasesOf(payerAgent(dir)), env: {}, projectDir: dir, lockDir: dir }));
    expect(second).toBe(first);
    expect(first.endsWith('}\n')).toBe(true);
    expect(first).toMatch(/^\{\n {2}"agents": \{\n {4}"payer": \{\n {6}"approvals"/);
    expect(first).not.toContain(dir);
    const lock = parseLock(first, 'twelve.lock.json');
    const payer = lock.agents.payer!;
    expect(payer.releaseId).toBe(releasesOf(agent)[0]!.releaseId);
    expect(payer.prompt).toEqual({ path: 'prompts/payer.md', sha256: hashText('Pay the invoice in {{input}}.') });
    expect(payer.model).toBe('openai:gpt-4o-2024-08-06');
    expect(payer.fallbackModels).toEqual(['anthropic:claude-sonnet-4-5-20250929', 'scripted:payer']);
    expect(payer.tools).toEqual([
      { name: 'pay', descriptionSha256: expect.stringMatching(/^[0-9a-f]{64}$/), effect: 'idempotent', maxAttempts: 3, inputSchemaSha256: expect.stringMatching(/^[0-9a-f]{64}$/), outputSchemaSha256: expect.stringMatching(/^[0-9a-f]{64}$/) },
    ]);
    expect(payer.limits).toMatchObject({ maxSteps: 5, maxTokens: null, maxCostUsd: null });
    expect(payer.approvals.pay).toEqual({ policy: 'never', source: 'code', approvers: [], people: [], timeoutMs: null, onTimeout: 'reject' });
    expect(payer.onNewRelease).toBe('auto');
    expect(lock.twelve).toBe(JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')).version);
    // The prompt's path is relative to the lock's folder, wherever that is.
    const nested = buildLock({ releases: releasesOf(agent), env: {}, projectDir: dir, lockDir: join(dir, 'deploy') });
    expect(nested.agents.payer!.prompt.path).toBe('../prompts/payer.md');
  });

  it('records the installed version of each provider package the models use, null when the project has none', () => {
    const agent = payerAgent(tempDir());
    const inRepo = buildLock({ releases: releasesOf(agent), env: {}, projectDir: repoRoot, lockDir: repoRoot });
    expect(inRepo.agents.payer!.providerPackages).toEqual({ '@ai-sdk/openai': installed('@ai-sdk/openai'), '@ai-sdk/anthropic': installed('@ai-sdk/anthropic') });
    const bare = buildLock({ releases: releasesOf(agent), env: {}, projectDir: tempDir(), lockDir: repoRoot });
    expect(bare.agents.payer!.providerPackages).toEqual({ '@ai-sdk/openai': null, '@ai-sdk/anthropic': null });
  });

  it('records the variables that shape the release, and none of the operational ones or secrets', () => {
    const agent = payerAgent(tempDir());
    const env = {
      TWELVE_AGENT_PAYER_MODEL: 'openai:gpt-4o-2024-11-20',
      TWELVE_AGENT_PAYER_APPROVAL_PAY: 'always',
      TWELVE_MAX_CONSECUTIVE_ERRORS: '5',
      TWELVE_AGENT_PAYER_MAX_CONCURRENCY: '2',
      TWELVE_AGENT_PAYER_MAX_BUDGET_RAISE_USD: '10',
      TWELVE_MAX_BUDGET_RAISE_USD: '20',
      OPENAI_API_KEY: 'sk-secret',
      TWELVE_WORKER_CONCURRENCY: '8',
    };
    expect(releaseVariables(env, agent)).toEqual({ TWELVE_AGENT_PAYER_MODEL: 'openai:gpt-4o-2024-11-20', TWELVE_AGENT_PAYER_APPROVAL_PAY: 'always', TWELVE_MAX_CONSECUTIVE_ERRORS: '5' });
    const lock = buildLock({ releases: releasesOf(agent, env), env, projectDir: repoRoot, lockDir: repoRoot });
    expect(lock.agents.payer!.model).toBe('openai:gpt-4o-2024-11-20');
    expect(lock.agents.payer!.approvals.pay).toMatchObject({ policy: 'always', source: 'environment' });
    expect(renderLock(lock)).not.toContain('sk-secret');
  });

  it('refuses a file that is not a lock, naming the file and how to fix it', () => {
    expect(() => parseLock('{"lockfileVersion": 1', 'deploy/twelve.lock.json')).toThrow(/^deploy\/twelve\.lock\.json is not a lock file this Twelve can read \(.*\); run twelve build/);
    expect(() => parseLock('{"lockfileVersion": 1, "twelve": "0.1.0", "agents": {"a": {"releaseId": 3}}}', 'twelve.lock.json')).toThrow(/agents\.a\.releaseId/);
  });

  it('names a moved prompt with the same text, and an agent removed from the code', () => {
    const dir = tempDir();
    const agent = payerAgent(dir);
    const committed = buildLock({ releases: releasesOf(agent), env: {}, projectDir: dir, lockDir: dir });
    const moved = buildLock({ releases: releasesOf(agent), env: {}, projectDir: dir, lockDir: join(dir, 'sub') });
    expect(diffLocks(committed, moved).map(formatDrift)).toEqual(['payer: prompt moved (prompts/payer.md → ../prompts/payer.md; same text)']);
    const empty = { ...committed, agents: {} };
    expect(diffLocks(committed, empty).map(formatDrift)).toEqual([expect.stringMatching(/^payer: agent removed \(release rel_\w+ is in the lock, not in the code\)$/)]);
    expect(diffLocks(committed, empty, { partial: true })).toEqual([]);
  });
});

describe('TWELVE_REQUIRE_LOCK', () => {
  it('takes 1, 0, true or false, refuses anything else, and defaults to on in production', () => {
    expect(loadConfig({}).requireLock).toBe(false);
    expect(loadConfig({ TWELVE_REQUIRE_LOCK: '1' }).requireLock).toBe(true);
    expect(loadConfig({ TWELVE_REQUIRE_LOCK: 'true' }).requireLock).toBe(true);
    expect(loadConfig({ TWELVE_REQUIRE_LOCK: 'false' }).requireLock).toBe(false);
    expect(loadConfig({ NODE_ENV: 'production' }).requireLock).toBe(true);
    expect(loadConfig({ NODE_ENV: 'production', TWELVE_REQUIRE_LOCK: '0' }).requireLock).toBe(false);
    expect(() => loadConfig({ TWELVE_REQUIRE_LOCK: 'yes' })).toThrow('invalid configuration (1 problem):\n  - TWELVE_REQUIRE_LOCK: must be 1, 0, true or false (got "yes")');
  });
});

describe('the start-up check against the lock', () => {
  function setUp() {
    const dir = tempDir();
    const lockPath = join(dir, 'twelve.lock.json');
    writeFileSync(lockPath, renderLock(buildLock({ releases: releasesOf(payerAgent(dir)), env: {}, projectDir: dir, lockDir: dir })));
    const warnings: string[] = [];
    const logger = { warn: (_: unknown, message?: string) => warnings.push(message ?? '') } as unknown as Logger;
    const drifted = releasesOf(payerAgent(dir, 'Pay it.'));
    return { dir, lockPath, warnings, logger, drifted };
  }

  it('refuses on drift where the lock is required, listing every change and how to fix it', () => {
    const { dir, lockPath, logger, drifted } = setUp();
    const check = () => enforceLock({ releases: drifted, lockPath, projectDir: dir, env: {}, requiredBy: 'TWELVE_REQUIRE_LOCK=1', logger, command: 'twelve worker' });
    expect(check).toThrow(/^twelve worker refuses to start: the code differs from .*twelve\.lock\.json \(2 changes\), and TWELVE_REQUIRE_LOCK=1 requires them to match:\n {2}- payer: prompt changed \(prompts\/payer\.md sha256 [0-9a-f]{8}… → [0-9a-f]{8}…\)\n {2}- payer: release rel_\w+ → rel_\w+\nIf these changes are meant, run twelve build/);
  });

  it('warns once in development on drift, and says nothing when the code matches', () => {
    const { dir, lockPath, warnings, logger, drifted } = setUp();
    enforceLock({ releases: releasesOf(payerAgent(dir)), lockPath, projectDir: dir, env: {}, requiredBy: undefined, logger, command: 'twelve worker' });
    expect(warnings).toEqual([]);
    enforceLock({ releases: drifted, lockPath, projectDir: dir, env: {}, requiredBy: undefined, logger, command: 'twelve worker' });
    expect(warnings).toEqual([expect.stringMatching(/^the code differs from .*twelve\.lock\.json \(2 changes: payer: prompt changed .*\)\. Run twelve build to update the lock, and commit it$/)]);
  });
});
