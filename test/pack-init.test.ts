/**
 * A user's first five minutes, for real: pack the library (dist must be built), install the
 * tarball into an empty project with npm, and there: a CommonJS config gets an error saying
 * what to change, `npx twelve init` scaffolds, `npx twelve run` replays the agent offline and
 * `npm test` runs the generated test.
 *
 * The install is the expensive part, done once for the file. better-sqlite3 has no prebuilt
 * binary to download without internet and would compile from source (minutes on a busy 2-core
 * machine), so the test hands prebuild-install a local prebuild (its documented
 * npm_config_<package>_local_prebuilds) packed from this repository's own compiled binary: the
 * same version for the same Node ABI, which is what a user online downloads.
 * TWELVE_PACK_BUILD_FROM_SOURCE=1 leaves it out and measures the compile instead.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { mkdtempSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from './support/cli.js';

const exec = promisify(execFile);
const work = mkdtempSync(join(tmpdir(), 'twelve-pack-'));
const app = join(work, 'app');
let tarball = '';

/** The user's shell: no Twelve or provider settings from the developer's environment, npm quiet. */
function userEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!/^(TWELVE_|OPENAI_|ANTHROPIC_|REFUNDS_|npm_|NODE_OPTIONS$|VITEST)/i.test(key)) env[key] = value;
  }
  return { ...env, NO_COLOR: '1', npm_config_update_notifier: 'false', ...extra };
}

/** Runs a command in the app; resolves with its exit code and output whatever the code. */
async function inApp(file: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  try {
    const { stdout, stderr } = await exec(file, args, { cwd: app, env: userEnv(env), maxBuffer: 16 * 1024 * 1024, timeout: 120_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof failed.code === 'number' ? failed.code : -1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? String(error) };
  }
}

beforeAll(async () => {
  expect(existsSync(join(repoRoot, 'dist', 'cli', 'main.js')), 'build first: npm run build').toBe(true);
  const packStarted = performance.now();
  const packed = await exec('npm', ['pack', '--pack-destination', work, '--ignore-scripts', '--json'], { cwd: repoRoot, env: userEnv(), maxBuffer: 64 * 1024 * 1024 });
  tarball = join(work, (JSON.parse(packed.stdout) as Array<{ filename: string }>)[0]!.filename);
  const packSeconds = ((performance.now() - packStarted) / 1000).toFixed(1);

  const env: NodeJS.ProcessEnv = {};
  if (!process.env.TWELVE_PACK_BUILD_FROM_SOURCE) {
    const sqlite = JSON.parse(readFileSync(join(repoRoot, 'node_modules', 'better-sqlite3', 'package.json'), 'utf8')) as { version: string };
    const prebuilds = join(work, 'prebuilds');
    mkdirSync(prebuilds);
    const name = `better-sqlite3-v${sqlite.version}-node-v${process.versions.modules}-${process.platform}-${process.arch}.tar.gz`;
    await exec('tar', ['czf', join(prebuilds, name), '-C', join(repoRoot, 'node_modules', 'better-sqlite3'), 'build/Release/better_sqlite3.node']);
    env.npm_config_better_sqlite3_local_prebuilds = prebuilds;
  }
  // An empty project, as `mkdir app && cd app` leaves it (the package.json pins npm's project root here).
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), `${JSON.stringify({ name: 'app', version: '1.0.0', private: true }, null, 2)}\n`);
  const started = performance.now();
  const installed = await inApp('npm', ['install', tarball, '--prefer-offline', '--no-audit', '--no-fund'], env);
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.log(`npm pack: ${packSeconds} s; npm install of the tarball: ${seconds} s (${env.npm_config_better_sqlite3_local_prebuilds ? 'better-sqlite3 from a local prebuild' : 'better-sqlite3 compiled from source'})`);
  expect(installed.stderr.match(/npm error.*/g) ?? [], installed.stderr).toEqual([]);
  expect(installed.code).toBe(0);
}, 600_000);

afterAll(() => rmSync(work, { recursive: true, force: true, maxRetries: 3 }));

describe('the packed package in a new project', () => {
  it('ships what runs (dist, bin, console, templates) and nothing test-only', async () => {
    const { stdout } = await exec('tar', ['tzf', tarball], { maxBuffer: 16 * 1024 * 1024 });
    const files = stdout.split('\n').filter(Boolean).map((path) => path.replace(/^package\//, ''));
    for (const file of ['bin/twelve.js', 'dist/cli/main.js', 'dist/testing.js', 'console/index.html', 'templates/init/gitignore', 'templates/init/agents/support.ts', 'README.md']) {
      expect(files).toContain(file);
    }
    const roots = new Set(files.map((path) => path.split('/')[0]));
    expect([...roots].sort()).toEqual(['README.md', 'bin', 'console', 'dist', 'package.json', 'templates']);
    // The template's own test is part of what init writes; the repository's tests and their helpers are not shipped.
    const testOnly = files.filter((path) => !path.startsWith('templates/') && (/\.test\.[jt]s$/.test(path) || /^(test|src|scripts)\//.test(path)));
    expect(testOnly).toEqual([]);
  });

  it('installs one zod (a peer dependency) and the tsx that loads TypeScript agents', () => {
    const zods: string[] = [];
    const walk = (dir: string) => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        if (!entry.isDirectory()) continue;
        const path = join(dir, entry.name);
        if (entry.name === 'zod' && existsSync(join(path, 'package.json'))) zods.push(path);
        walk(path);
      }
    };
    walk(join(app, 'node_modules'));
    expect(zods).toEqual([join(app, 'node_modules', 'zod')]);
    expect(existsSync(join(app, 'node_modules', 'tsx', 'package.json'))).toBe(true);
    expect(existsSync(join(app, 'node_modules', '.bin', 'twelve'))).toBe(true);
  });

  // The tests below share the project and run in order: CommonJS first, then init turns it into an ES module project.
  it('tells a CommonJS project what to change', async () => {
    writeFileSync(join(app, 'twelve.config.ts'), "import { defineConfig } from 'twelve-agents';\nexport default defineConfig({ agents: [] });\n");
    try {
      const result = await inApp('npx', ['twelve', 'agents', 'ls']);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(`${join(app, 'package.json')} has no "type": "module", so Node loads .ts and .js files as CommonJS; Twelve projects are ES modules: add "type": "module" to it`);
    } finally {
      rmSync(join(app, 'twelve.config.ts'));
    }
  });

  it('scaffolds with npx twelve init, replays the agent offline with npx twelve run, and passes the generated test', async () => {
    const init = await inApp('npx', ['twelve', 'init']);
    expect(init.stderr).toBe('');
    expect(init.code).toBe(0);
    expect(init.stdout).toMatch(/^  updated +package\.json$/m);
    expect(init.stdout).toMatch(/^  created +agents\/support\.ts$/m);
    const pkg = JSON.parse(readFileSync(join(app, 'package.json'), 'utf8'));
    expect(pkg.type).toBe('module');
    expect(pkg.dependencies['twelve-agents']).toBe(`file:../${tarball.split('/').pop()}`);

    const replayed = await inApp('npx', ['twelve', 'run', 'support', '--input', '@samples/question.txt'], { TWELVE_MODEL_MODE: 'replay' });
    expect(replayed.stderr).toBe('');
    expect(replayed.code).toBe(0);
    expect(replayed.stdout).toMatch(/tool result +lookup_order \{"orderId":"A-1001","status":"shipped"/);
    expect(replayed.stdout).toMatch(/completed +\{"answer":"Your order A-1001 shipped/);

    const tested = await inApp('npm', ['test']);
    expect(tested.code, tested.stdout + tested.stderr).toBe(0);
    expect(tested.stdout).toMatch(/^# pass 2$/m);
    expect(tested.stdout).toMatch(/^# fail 0$/m);
  });
});
