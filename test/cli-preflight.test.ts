/**
 * `twelve run` checks the provider configuration of every model in the agent's chain (or the
 * recordings to replay) before it creates a thread: exit 2, one clear message, no thread.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli.js';
import { testApiKey } from './support/runtime.js';
import { tempDir } from './support/temp-dir.js';

function dbEnv(extra: NodeJS.ProcessEnv = {}) {
  const dir = tempDir();
  return { dir, env: { TWELVE_DATABASE_URL: `sqlite:${join(dir, 'twelve.db')}`, REFUNDS_LEDGER_PATH: join(dir, 'ledger.db'), ...extra } };
}

describe('twelve run checks the provider configuration before it creates a thread', () => {
  it('refuses with exit 2, naming every model of the chain it cannot call, and creates nothing', async () => {
    const { env } = dbEnv();
    const run = await runCli(['run', 'refunds', '--input', '@examples/refunds/sample-request.txt'], { env });
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain('twelve: agent refunds cannot call its models, so no thread was created:');
    expect(run.stderr).toMatch(/  - model openai:gpt-4o-2024-08-06: OPENAI_API_KEY is not set\./);
    expect(run.stderr).toMatch(/  - model anthropic:claude-sonnet-4-5-20250929: ANTHROPIC_API_KEY is not set\. .* \(a fallback: to run without it, set TWELVE_AGENT_REFUNDS_FALLBACK_MODELS to the ones you can call, or to nothing\)/);
    const threads = await runCli(['threads', 'ls'], { env });
    expect(threads.stdout.trim()).toBe('no threads');

    const onlyOpenAI = await runCli(['run', 'refunds', '--input', 'x'], { env: { ...env, OPENAI_API_KEY: testApiKey } });
    expect(onlyOpenAI.code).toBe(2);
    expect(onlyOpenAI.stderr).not.toContain('OPENAI_API_KEY');
    expect(onlyOpenAI.stderr).toContain('ANTHROPIC_API_KEY is not set');
    expect(onlyOpenAI.stderr + onlyOpenAI.stdout).not.toContain(testApiKey);
  });

  it('refuses to replay from a recordings directory that does not exist', async () => {
    const { dir, env } = dbEnv({ TWELVE_MODEL_MODE: 'replay' });
    const missing = join(dir, 'recordings-nobody-made');
    const run = await runCli(['run', 'refunds', '--input', 'x'], { env: { ...env, TWELVE_RECORDINGS_DIR: missing } });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`TWELVE_MODEL_MODE=replay, but the recordings directory ${missing} does not exist: record the agent first`);
  });

  it('still reports bad input first, and runs when the configuration is complete', async () => {
    const { env } = dbEnv();
    const bad = await runCli(['run', 'refunds', '--input', ''], { env });
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim()).toMatch(/^twelve: input for agent refunds is invalid/);
    const replay = await runCli(['run', 'refunds', '--input', '@examples/refunds/sample-request.txt'], { env: { ...env, TWELVE_MODEL_MODE: 'replay' } });
    expect(replay.code).toBe(0);
  });
});
