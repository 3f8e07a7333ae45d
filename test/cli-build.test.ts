/**
 * `twelve build` and `twelve build --check` as a user runs them (bin -> dist) in a small
 * project of their own, and serve/worker/run refusing to start on a lock that does not match.
 */
import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { repoRoot, runCli } from './support/cli.js';
import { tempDir } from './support/temp-dir.js';

const twelve = pathToFileURL(join(repoRoot, 'dist/index.js')).href;
const bin = join(repoRoot, 'bin/twelve.js');

const agentFile = `import { z } from 'zod';
import { defineAgent, defineTool } from '${twelve}';

const refund = defineTool({
  name: 'refund',
  description: 'Refund an order.',
  input: z.object({ orderId: z.string() }),
  output: z.object({ refundId: z.string() }),
  approval: 'never',
  run: async ({ orderId }) => ({ refundId: 'rf_' + orderId }),
});

export default defineAgent({
  name: 'refunds',
  purpose: 'Refund one order.',
  model: 'openai:gpt-4o-2024-08-06',
  fallbackModels: ['anthropic:claude-sonnet-4-5-20250929'],
  prompt: new URL('./prompts/refunds.md', import.meta.url),
  tools: [refund],
  output: z.object({ decision: z.string() }),
  limits: { maxSteps: 20 },
});
`;

const helperFile = `import { defineAgent } from '${twelve}';
export default defineAgent({ name: 'helper', purpose: 'Help.', model: 'openai:gpt-4o-2024-08-06', prompt: { text: 'Help with {{input}}.' } });
`;

/** A project folder: twelve.config.mjs, one agent with a prompt file, the repository's node_modules. */
function makeProject(): string {
  const dir = tempDir();
  mkdirSync(join(dir, 'prompts'));
  writeFileSync(join(dir, 'prompts', 'refunds.md'), 'Refund the order in {{input}} when the policy allows.\n');
  writeFileSync(join(dir, 'refunds.mjs'), agentFile);
  writeFileSync(join(dir, 'helper.mjs'), helperFile);
  writeFileSync(join(dir, 'twelve.config.mjs'), `import { defineConfig } from '${twelve}';\nimport refunds from './refunds.mjs';\nexport default defineConfig({ agents: [refunds] });\n`);
  symlinkSync(join(repoRoot, 'node_modules'), join(dir, 'node_modules'), 'dir');
  return dir;
}

function edit(dir: string, file: string, from: string, to: string): void {
  const path = join(dir, file);
  const text = readFileSync(path, 'utf8');
  if (!text.includes(from)) throw new Error(`${file} has no ${from}`);
  writeFileSync(path, text.replace(from, to));
}

const dbEnv = (dir: string, extra: NodeJS.ProcessEnv = {}) => ({ TWELVE_DATABASE_URL: `sqlite:${join(dir, 'twelve.db')}`, ...extra });

async function inBatches<T, R>(items: T[], size: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  for (let i = 0; i < items.length; i += size) results.push(...(await Promise.all(items.slice(i, i + size).map(fn))));
  return results;
}

const openaiVersion = (JSON.parse(readFileSync(join(repoRoot, 'node_modules/@ai-sdk/openai/package.json'), 'utf8')) as { version: string }).version;

describe('twelve build', () => {
  it('writes twelve.lock.json beside the config, prints each agent and its release, and --check passes while nothing changes', async () => {
    const dir = makeProject();
    const built = await runCli(['build'], { cwd: dir });
    expect(built.code).toBe(0);
    expect(built.stdout).toMatch(/^refunds {2}rel_[0-9a-f]{16}\n$/);
    expect(built.stderr).toBe('twelve build: wrote twelve.lock.json (1 agent)\n');
    const text = readFileSync(join(dir, 'twelve.lock.json'), 'utf8');
    const lock = JSON.parse(text);
    expect(lock.agents.refunds.releaseId).toBe(built.stdout.split(/\s+/)[1]);
    expect(lock.agents.refunds.prompt.path).toBe('prompts/refunds.md');
    expect(lock.agents.refunds.providerPackages['@ai-sdk/openai']).toBe(openaiVersion);
    expect(text).not.toContain(dir);

    const [again, check, json] = await Promise.all([runCli(['build'], { cwd: dir }), runCli(['build', '--check'], { cwd: dir }), runCli(['build', '--check', '--json'], { cwd: dir })]);
    expect(again.stderr).toBe('twelve build: twelve.lock.json is up to date (1 agent)\n');
    expect(readFileSync(join(dir, 'twelve.lock.json'), 'utf8')).toBe(text);
    expect([check.code, check.stdout]).toEqual([0, 'twelve.lock.json matches the code (1 agent)\n']);
    expect([json.code, JSON.parse(json.stdout)]).toEqual([0, { lock: 'twelve.lock.json', status: 'same', drifts: [] }]);
  });

  it("the repository's twelve.lock.json matches its examples (after changing one, run node bin/twelve.js build)", async () => {
    const check = await runCli(['build', '--check']);
    expect(check.stdout).toBe('twelve.lock.json matches the code (3 agents)\n');
    expect(check.code).toBe(0);
  });

  it('--check exits 1 and names the change for each kind of drift', async () => {
    const base = makeProject();
    expect((await runCli(['build'], { cwd: base })).code).toBe(0);
    const kinds: Array<{ name: string; change: (dir: string) => void; env?: NodeJS.ProcessEnv; expected: RegExp }> = [
      { name: 'prompt text', change: (d) => writeFileSync(join(d, 'prompts/refunds.md'), 'Refund everything.\n'), expected: /^refunds: prompt changed \(prompts\/refunds\.md sha256 [0-9a-f]{8}… → [0-9a-f]{8}…\)$/m },
      { name: 'model pin', change: (d) => edit(d, 'refunds.mjs', "model: 'openai:gpt-4o-2024-08-06'", "model: 'openai:gpt-4o-2024-11-20'"), expected: /^refunds: model openai:gpt-4o-2024-08-06 → openai:gpt-4o-2024-11-20$/m },
      { name: 'fallback list', change: (d) => edit(d, 'refunds.mjs', "fallbackModels: ['anthropic:claude-sonnet-4-5-20250929']", 'fallbackModels: []'), expected: /^refunds: fallbackModels \[anthropic:claude-sonnet-4-5-20250929\] → \[\]$/m },
      { name: 'tool input schema', change: (d) => edit(d, 'refunds.mjs', 'input: z.object({ orderId: z.string() })', 'input: z.object({ orderId: z.string(), reason: z.string() })'), expected: /^refunds: tool refund: input schema changed \(sha256 /m },
      { name: 'tool output schema', change: (d) => edit(d, 'refunds.mjs', 'output: z.object({ refundId: z.string() })', 'output: z.object({ refundId: z.number() })'), expected: /^refunds: tool refund: output schema changed \(sha256 /m },
      { name: 'agent output schema', change: (d) => edit(d, 'refunds.mjs', 'output: z.object({ decision: z.string() })', "output: z.object({ decision: z.enum(['refunded', 'declined']) })"), expected: /^refunds: output schema changed \(sha256 /m },
      { name: 'limit', change: (d) => edit(d, 'refunds.mjs', 'maxSteps: 20', 'maxSteps: 30'), expected: /^refunds: limits\.maxSteps 20 → 30$/m },
      { name: 'approval policy', change: (d) => edit(d, 'refunds.mjs', "approval: 'never'", "approval: 'always'"), expected: /^refunds: approval of tool refund: policy never → always$/m },
      { name: 'environment override', change: () => undefined, env: { TWELVE_AGENT_REFUNDS_TEMPERATURE: '0.5' }, expected: /^refunds: environment TWELVE_AGENT_REFUNDS_TEMPERATURE unset → "0\.5"$/m },
      {
        name: 'provider package version',
        change: (d) => edit(d, 'twelve.lock.json', `"@ai-sdk/openai": "${openaiVersion}"`, '"@ai-sdk/openai": "9.9.9"'),
        expected: new RegExp(`^refunds: provider package @ai-sdk/openai 9\\.9\\.9 → ${openaiVersion.replace(/\./g, '\\.')}$`, 'm'),
      },
      { name: 'agent added', change: (d) => edit(d, 'twelve.config.mjs', 'agents: [refunds]', "agents: [refunds, (await import('./helper.mjs')).default]"), expected: /^helper: agent added \(release rel_[0-9a-f]{16}; not in the lock\)$/m },
      { name: 'agent removed', change: (d) => edit(d, 'twelve.config.mjs', 'agents: [refunds]', "agents: [(await import('./helper.mjs')).default]"), expected: /^refunds: agent removed \(release rel_[0-9a-f]{16} is in the lock, not in the code\)$/m },
    ];
    const results = await inBatches(kinds, 3, async (kind) => {
      const dir = tempDir();
      cpSync(base, dir, { recursive: true, verbatimSymlinks: true });
      kind.change(dir);
      // The JSON form for two of them (each check is a process: the machine has two cores).
      const withJson = kind.name === 'prompt text' || kind.name === 'environment override';
      const [text, json] = await Promise.all([runCli(['build', '--check'], { cwd: dir, env: kind.env ?? {} }), withJson ? runCli(['build', '--check', '--json'], { cwd: dir, env: kind.env ?? {} }) : undefined]);
      return { kind, text, json };
    });
    for (const { kind, text, json } of results) {
      expect({ kind: kind.name, code: text.code }).toEqual({ kind: kind.name, code: 1 });
      expect(text.stdout, kind.name).toMatch(kind.expected);
      expect(text.stderr, kind.name).toMatch(/^twelve build --check: the code differs from twelve\.lock\.json \(\d+ changes?\); run twelve build to update it, and commit it\n$/);
      if (!json) continue;
      expect(json.code, kind.name).toBe(1);
      const report = JSON.parse(json.stdout) as { status: string; drifts: Array<{ agent: string; detail: string }> };
      expect(report.status, kind.name).toBe('drift');
      expect(report.drifts.map((d) => `${d.agent}: ${d.detail}`).join('\n'), kind.name).toMatch(kind.expected);
    }
  });

  it('--check exits 1 with a clear message when there is no lock; usage errors exit 2', async () => {
    const dir = makeProject();
    const [missing, missingJson, extra, jsonAlone, badFolder] = await Promise.all([
      runCli(['build', '--check'], { cwd: dir }),
      runCli(['build', '--check', '--json'], { cwd: dir }),
      runCli(['build', 'now'], { cwd: dir }),
      runCli(['build', '--json'], { cwd: dir }),
      runCli(['build', '--lock', 'no/such/folder/twelve.lock.json'], { cwd: dir }),
    ]);
    expect([missing.code, missing.stdout, missing.stderr]).toEqual([1, '', 'twelve: no lock file at twelve.lock.json: run twelve build to write it, and commit it\n']);
    expect([missingJson.code, JSON.parse(missingJson.stdout)]).toEqual([1, { lock: 'twelve.lock.json', status: 'missing', drifts: [] }]);
    expect([extra.code, extra.stderr]).toEqual([2, expect.stringMatching(/^twelve: usage: twelve build \[--lock path\] \[--check\] \[--json\]/)]);
    expect([jsonAlone.code, jsonAlone.stderr]).toEqual([2, 'twelve: --json goes with --check (twelve build writes the lock and prints one line per agent)\n']);
    expect([badFolder.code, badFolder.stderr]).toEqual([2, 'twelve: --lock no/such/folder/twelve.lock.json: the folder no/such/folder does not exist\n']);

    // --lock and --config place the lock elsewhere; --check reads it there.
    mkdirSync(join(dir, 'deploy'));
    const elsewhere = await runCli(['build', '--lock', 'deploy/', '--config', 'twelve.config.mjs'], { cwd: dir });
    expect(elsewhere.stderr).toBe('twelve build: wrote deploy/twelve.lock.json (1 agent)\n');
    expect(JSON.parse(readFileSync(join(dir, 'deploy/twelve.lock.json'), 'utf8')).agents.refunds.prompt.path).toBe('../prompts/refunds.md');
    expect((await runCli(['build', '--check', '--lock', 'deploy/twelve.lock.json'], { cwd: dir })).code).toBe(0);
    writeFileSync(join(dir, 'deploy/twelve.lock.json'), '<<<<<<< HEAD\n{}\n');
    const conflicted = await runCli(['build', '--check', '--lock', 'deploy/twelve.lock.json'], { cwd: dir });
    expect([conflicted.code, conflicted.stderr]).toEqual([1, expect.stringMatching(/^twelve: deploy\/twelve\.lock\.json is not a lock file this Twelve can read \(.*\); run twelve build to write it again\n$/)]);
  });
});

/** Starts `twelve worker` in `dir` and resolves once it is ready (or has exited). */
function startWorker(dir: string, env: NodeJS.ProcessEnv) {
  const base = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^(TWELVE_|OPENAI_|ANTHROPIC_|NODE_ENV$)/.test(key)));
  const child = spawn(process.execPath, [bin, 'worker', '--concurrency', '1'], { cwd: dir, env: { ...base, NO_COLOR: '1', ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const ready = new Promise<void>((resolve) => {
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
      if (/ready in \d+ ms/.test(stderr)) resolve();
    });
    void exited.then(() => resolve());
  });
  return { child, exited, ready, stderr: () => stderr };
}

describe('serve, worker and run against the lock', () => {
  it('refuse to start on drift and on a missing lock under TWELVE_REQUIRE_LOCK=1 and NODE_ENV=production, listing each change', async () => {
    const drifted = makeProject();
    expect((await runCli(['build'], { cwd: drifted })).code).toBe(0);
    edit(drifted, 'refunds.mjs', 'maxSteps: 20', 'maxSteps: 30');
    const unlocked = makeProject();
    const commands = [['worker'], ['serve'], ['run', 'refunds', '--input', 'order A-1']];
    const requirements: Array<[string, NodeJS.ProcessEnv]> = [['TWELVE_REQUIRE_LOCK=1', { TWELVE_REQUIRE_LOCK: '1' }], ['NODE_ENV=production', { NODE_ENV: 'production' }]];
    const cases = commands.flatMap((args) => requirements.flatMap(([requiredBy, env]) => [drifted, unlocked].map((dir) => ({ args, requiredBy, env, dir }))));
    const results = await inBatches(cases, 4, async (c) => ({ ...c, result: await runCli(c.args, { cwd: c.dir, env: { ...dbEnv(tempDir()), PORT: '0', ...c.env } }) }));
    for (const { args, requiredBy, dir, result } of results) {
      const command = `twelve ${args[0]}`;
      expect({ command, requiredBy, code: result.code }).toEqual({ command, requiredBy, code: 2 });
      if (dir === drifted) {
        expect(result.stderr).toBe(
          `twelve: ${command} refuses to start: the code differs from twelve.lock.json (2 changes), and ${requiredBy} requires them to match:\n` +
            '  - refunds: limits.maxSteps 20 → 30\n' +
            `  - refunds: release ${result.stderr.match(/release (rel_\w+ → rel_\w+)/)?.[1]}\n` +
            'If these changes are meant, run twelve build to update twelve.lock.json, review and commit it, and deploy that commit\n',
        );
        expect(result.stderr).toMatch(/release rel_[0-9a-f]{16} → rel_[0-9a-f]{16}/);
      } else {
        expect(result.stderr).toBe(
          `twelve: ${command} refuses to start: ${requiredBy} requires a lock file and there is none at twelve.lock.json. Run twelve build (it writes twelve.lock.json), commit it, and deploy that commit\n`,
        );
      }
      expect(result.stdout).toBe('');
    }
  });

  it('start in production when the code matches the lock, and TWELVE_REQUIRE_LOCK=0 lifts the requirement', async () => {
    const dir = makeProject();
    expect((await runCli(['build'], { cwd: dir })).code).toBe(0);
    const worker = startWorker(dir, dbEnv(dir, { NODE_ENV: 'production' }));
    await worker.ready;
    expect(worker.stderr()).toMatch(/^twelve worker \S+: ready in \d+ ms; refunds on /);
    worker.child.kill('SIGTERM');
    expect(await worker.exited).toBe(0);
    // Past the lock, run stops at the next check: no key for the model.
    const unlocked = makeProject();
    const run = await runCli(['run', 'refunds', '--input', 'order A-1'], { cwd: unlocked, env: dbEnv(unlocked, { NODE_ENV: 'production', TWELVE_REQUIRE_LOCK: '0' }) });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^twelve: agent refunds cannot call its models, so no thread was created:/);
  });

  it('run of one agent file is checked against the lock of the project around it, for that agent only', async () => {
    const dir = makeProject();
    edit(dir, 'twelve.config.mjs', 'agents: [refunds]', "agents: [refunds, (await import('./helper.mjs')).default]");
    expect((await runCli(['build'], { cwd: dir })).code).toBe(0);
    mkdirSync(join(dir, 'sub'));
    const env = dbEnv(dir, { TWELVE_REQUIRE_LOCK: '1' });
    const [matching, drifted] = await Promise.all([
      runCli(['run', '../refunds.mjs', '--input', 'order A-1'], { cwd: join(dir, 'sub'), env }),
      runCli(['run', '../refunds.mjs', '--input', 'order A-1'], { cwd: join(dir, 'sub'), env: { ...env, TWELVE_AGENT_REFUNDS_MAX_STEPS: '5' } }),
    ]);
    expect(matching.code).toBe(2);
    expect(matching.stderr).toMatch(/^twelve: agent refunds cannot call its models/);
    expect(drifted.code).toBe(2);
    expect(drifted.stderr).toMatch(/^twelve: twelve run refuses to start: the code differs from \/\S+\/twelve\.lock\.json \(3 changes\)/);
    expect(drifted.stderr).toContain('  - refunds: limits.maxSteps 20 → 5\n');
    expect(drifted.stderr).not.toContain('helper');
  });

  it('in development, warn once when the lock differs, and say nothing when there is none', async () => {
    const drifted = makeProject();
    expect((await runCli(['build'], { cwd: drifted })).code).toBe(0);
    writeFileSync(join(drifted, 'prompts/refunds.md'), 'Refund everything.\n');
    const unlocked = makeProject();
    const [warned, quiet] = [startWorker(drifted, dbEnv(drifted)), startWorker(unlocked, dbEnv(unlocked))];
    await Promise.all([warned.ready, quiet.ready]);
    for (const worker of [warned, quiet]) worker.child.kill('SIGTERM');
    expect(await Promise.all([warned.exited, quiet.exited])).toEqual([0, 0]);
    const warnings = warned.stderr().split('\n').filter((line) => line.includes('WARN'));
    expect(warnings).toEqual([
      expect.stringMatching(/ WARN {2}the code differs from twelve\.lock\.json \(2 changes: refunds: prompt changed \(prompts\/refunds\.md sha256 [0-9a-f]{8}… → [0-9a-f]{8}…\); refunds: release .*\)\. Run twelve build to update the lock, and commit it {2}lock=twelve\.lock\.json$/),
    ]);
    expect(warned.stderr()).toMatch(/ready in \d+ ms/);
    expect(quiet.stderr()).not.toMatch(/lock|WARN/);
    expect(quiet.stderr()).toMatch(/ready in \d+ ms/);
  });
});
