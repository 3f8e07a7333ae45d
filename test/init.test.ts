/**
 * `twelve init`: what it writes, what it refuses, and that the project it writes runs: its
 * recordings replay its sample offline and its test passes. Twelve is linked into the project
 * here (node_modules symlinks to this repository); test/pack-init.test.ts does the same from
 * the packed tarball, as a user would.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { version } from '../src/version.js';
import { repoRoot, runCli } from './support/cli.js';
import { tempDir } from './support/temp-dir.js';

const run = promisify(execFile);

const written = [
  'package.json',
  'agents/recordings/support/795e0ff2641109a7d65cf97d.json',
  'agents/recordings/support/b70bc62e5950d8e7e45b54c3.json',
  'agents/support.prompt.md',
  'agents/support.ts',
  '.gitignore',
  'README.md',
  'samples/question.txt',
  'test/support.test.ts',
  'tsconfig.json',
  'twelve.config.ts',
  '.env.example',
];

/** What `npm install twelve-agents` would have put in node_modules, as links to this repository. */
function linkTwelve(dir: string): void {
  mkdirSync(join(dir, 'node_modules'), { recursive: true });
  symlinkSync(repoRoot, join(dir, 'node_modules', 'twelve-agents'), 'dir');
  for (const name of ['zod', 'tsx']) symlinkSync(join(repoRoot, 'node_modules', name), join(dir, 'node_modules', name), 'dir');
}

describe('twelve init', () => {
  it('writes an ES module project and names each file; refuses to write over one without --force', async () => {
    const dir = join(tempDir(), 'My Agents');
    const first = await runCli(['init', dir]);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toContain(`twelve init: a Twelve project in ${dir}`);
    for (const file of written) {
      expect(first.stdout).toMatch(new RegExp(`^  created +${file.replace(/\./g, '\\.')}$`, 'm'));
      expect(existsSync(join(dir, file))).toBe(true);
    }
    expect(first.stdout).toContain('  npm install\n');
    expect(first.stdout).toContain('TWELVE_MODEL_MODE=replay npx twelve run support --input @samples/question.txt');
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    expect(pkg).toMatchObject({ name: 'my-agents', type: 'module', dependencies: { 'twelve-agents': `^${version}`, zod: '^4.6.7' } });
    expect(pkg.scripts).toMatchObject({ start: 'twelve dev', test: 'node --import tsx --test test/*.test.ts' });
    expect(readFileSync(join(dir, 'README.md'), 'utf8')).toMatch(/^# my-agents\n/);
    expect(readFileSync(join(dir, '.env.example'), 'utf8')).toContain('\n# TWELVE_MODEL_MODE=live\n');

    const again = await runCli(['init', dir]);
    expect(again.code).toBe(2);
    expect(again.stderr.trim()).toBe(
      `twelve: ${dir} is not empty (.env.example, .gitignore, README.md, agents, samples, and 3 more); choose an empty folder (twelve init my-agents), or pass --force to write the project's files over it (nothing else is removed)`,
    );
    writeFileSync(join(dir, 'agents', 'support.ts'), '// edited');
    writeFileSync(join(dir, 'notes.txt'), 'mine');
    const forced = await runCli(['init', dir, '--force']);
    expect(forced.code).toBe(0);
    expect(forced.stdout).toMatch(/^  overwrote +agents\/support\.ts$/m);
    expect(forced.stdout).toMatch(/^  updated +package\.json$/m);
    expect(readFileSync(join(dir, 'agents', 'support.ts'), 'utf8')).toContain('defineAgent');
    expect(readFileSync(join(dir, 'notes.txt'), 'utf8')).toBe('mine');
  });

  it('takes over the package.json that npm install left in the folder, keeping its dependencies', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ dependencies: { 'twelve-agents': 'file:twelve-agents-0.1.0.tgz', pino: '^10.0.0' } }));
    writeFileSync(join(dir, 'package-lock.json'), '{}');
    linkTwelve(dir);
    const result = await runCli(['init'], { cwd: dir });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('twelve init: a Twelve project in .');
    expect(result.stdout).toMatch(/^  updated +package\.json$/m);
    expect(result.stdout).not.toContain('npm install'); // twelve-agents is there already
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    expect(pkg.type).toBe('module');
    expect(pkg.dependencies).toEqual({ pino: '^10.0.0', 'twelve-agents': 'file:twelve-agents-0.1.0.tgz', zod: '^4.6.7' });
  });

  it('writes a project whose agent replays its sample offline and whose test passes', async () => {
    const dir = tempDir();
    linkTwelve(dir);
    expect((await runCli(['init'], { cwd: dir })).code).toBe(0);
    const env = { TWELVE_MODEL_MODE: 'replay' };
    const replayed = await runCli(['run', 'support', '--input', '@samples/question.txt', '--json'], { cwd: dir, env });
    expect(replayed.stderr).toBe('');
    expect(replayed.code).toBe(0);
    const events = replayed.stdout.trim().split('\n').map((line) => JSON.parse(line) as { type: string; data: Record<string, unknown> });
    expect(events.map((event) => event.type)).toContain('tool_succeeded');
    expect(events.at(-1)).toMatchObject({ type: 'thread_completed', data: { output: { orderId: 'A-1001', needsHuman: false } } });
    expect(existsSync(join(dir, '.twelve', 'twelve.db'))).toBe(true);
    // Its prompt keeps the start of every request stable: no prompt-cache warning.
    const agents = await runCli(['agents', 'ls'], { cwd: dir });
    expect(agents.stdout).toMatch(/^support /m);
    expect(agents.stdout).not.toMatch(/prompt cache/);

    const { stdout } = await run(process.execPath, ['--import', 'tsx', '--test', 'test/support.test.ts'], { cwd: dir });
    expect(stdout).toMatch(/^# pass 2$/m);
    expect(stdout).toMatch(/^# fail 0$/m);
  });

  it('says to add "type": "module" when a CommonJS project cannot load its config', async () => {
    const dir = tempDir();
    linkTwelve(dir);
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'old-style', dependencies: { 'twelve-agents': '^0.1.0' } }));
    writeFileSync(join(dir, 'twelve.config.ts'), "import { defineConfig } from 'twelve-agents';\nexport default defineConfig({ agents: [] });\n");
    const result = await runCli(['agents', 'ls'], { cwd: dir });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`cannot load ${join(dir, 'twelve.config.ts')}: `);
    expect(result.stderr).toContain(`${join(dir, 'package.json')} has no "type": "module", so Node loads .ts and .js files as CommonJS; Twelve projects are ES modules: add "type": "module" to it`);
  });
});
