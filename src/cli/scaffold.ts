/**
 * What `twelve init` writes: the files of templates/init (shipped in the package), a
 * package.json (an ES module project depending on this version of twelve-agents, merged into
 * the one `npm install twelve-agents` leaves behind), and .env.example generated from
 * config/settings.ts. Refuses a folder with anything else in it unless forced.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderEnvExample } from '../config/settings.js';
import { TwelveError } from '../errors.js';

/** Shipped beside dist/ (package.json "files"); from src/ too when run by the tests. */
export const templateDir = fileURLToPath(new URL('../../templates/init/', import.meta.url));

/** What `npm install twelve-agents` leaves in an empty folder, and what a clone has: not in the way. */
const harmless = new Set(['package.json', 'package-lock.json', 'node_modules', '.git', '.npmrc', '.DS_Store']);

/** npm drops files named .gitignore from packages, so the template is called gitignore. */
const renamed: Record<string, string> = { gitignore: '.gitignore' };

export interface ScaffoldResult {
  dir: string;
  /** Paths relative to dir, in the order written, each with what happened to it. */
  files: Array<{ path: string; action: 'created' | 'overwrote' | 'updated' }>;
}

export function scaffold(options: { dir: string; version: string; zodRange: string; force?: boolean }): ScaffoldResult {
  const dir = resolve(options.dir);
  if (existsSync(dir) && !statSync(dir).isDirectory()) throw new TwelveError('usage', `${options.dir} is a file, not a folder`);
  const inTheWay = existsSync(dir) ? readdirSync(dir).filter((name) => !harmless.has(name)) : [];
  if (inTheWay.length > 0 && !options.force) {
    const shown = inTheWay.slice(0, 5).join(', ') + (inTheWay.length > 5 ? `, and ${inTheWay.length - 5} more` : '');
    throw new TwelveError('usage', `${options.dir} is not empty (${shown}); choose an empty folder (twelve init my-agents), or pass --force to write the project's files over it (nothing else is removed)`);
  }
  mkdirSync(dir, { recursive: true });
  const files: ScaffoldResult['files'] = [];
  const write = (path: string, text: string, action?: 'updated') => {
    const target = join(dir, path);
    const existed = existsSync(target);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, text);
    files.push({ path, action: action ?? (existed ? 'overwrote' : 'created') });
  };
  const name = packageName(dir);
  const packagePath = join(dir, 'package.json');
  const existing = existsSync(packagePath) ? readPackage(packagePath) : undefined;
  write('package.json', `${JSON.stringify(packageJson(existing, { name, version: options.version, zodRange: options.zodRange }), null, 2)}\n`, existing ? 'updated' : undefined);
  for (const path of templateFiles(templateDir)) {
    let text = readFileSync(join(templateDir, path), 'utf8');
    if (path === 'README.md') text = text.replaceAll('{{project}}', name);
    write(renamed[path] ?? path, text);
  }
  write('.env.example', renderEnvExample(envHeader(options.version)));
  return { dir, files };
}

/** The user's package.json, or npm's, turned into an ES module project that depends on Twelve and zod. */
export function packageJson(existing: Record<string, unknown> | undefined, options: { name: string; version: string; zodRange: string }): Record<string, unknown> {
  const base = existing ?? { name: options.name, version: '0.1.0', private: true };
  const scripts = { ...(base.scripts as Record<string, string> | undefined) };
  const placeholder = (script: string | undefined) => script === undefined || /no test specified/.test(script);
  const ours = {
    start: 'twelve dev',
    test: 'node --import tsx --test test/*.test.ts',
    demo: 'TWELVE_MODEL_MODE=replay twelve run support --input @samples/question.txt',
  };
  for (const [key, command] of Object.entries(ours)) if (placeholder(scripts[key])) scripts[key] = command;
  const dependencies = { ...(base.dependencies as Record<string, string> | undefined) };
  // Keep what npm wrote (a registry range, or file:twelve-agents-x.tgz); add what is missing.
  dependencies['twelve-agents'] ??= `^${options.version}`;
  dependencies.zod ??= options.zodRange;
  return {
    ...base,
    type: 'module',
    scripts,
    dependencies: Object.fromEntries(Object.entries(dependencies).sort(([a], [b]) => a.localeCompare(b))),
    // npm runs these packages' install scripts without asking (better-sqlite3 builds SQLite, esbuild fetches its binary).
    allowScripts: { 'better-sqlite3': true, esbuild: true, ...(base.allowScripts as Record<string, boolean> | undefined) },
  };
}

function readPackage(path: string): Record<string, unknown> {
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as unknown;
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch (error) {
    throw new TwelveError('usage', `${path} is not valid JSON (${(error as Error).message}); fix it or remove it`);
  }
  throw new TwelveError('usage', `${path} is not a JSON object; fix it or remove it`);
}

/** The folder's name as an npm package name: lower case, no spaces. */
function packageName(dir: string): string {
  return basename(dir).toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^[._-]+/, '') || 'my-agents';
}

function templateFiles(root: string, directory = root): string[] {
  return readdirSync(directory, { withFileTypes: true })
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((entry) => {
      const path = join(directory, entry.name);
      return entry.isDirectory() ? templateFiles(root, path) : [relative(root, path).split('\\').join('/')];
    });
}

function envHeader(version: string): string {
  return [
    `Every setting of Twelve (twelve-agents ${version}), each commented out: unset, the default applies.`,
    'Copy this file to .env and uncomment what you need; load it with `node --env-file=.env node_modules/.bin/twelve ...`,',
    'or export the variables in your shell, container or process manager. Never commit .env: it holds keys.',
  ].join('\n');
}
