/**
 * Comparing the code with the committed twelve.lock.json: for `twelve build --check`, and at
 * the start of serve, worker and run, which refuse to start on any drift where the lock is
 * required (TWELVE_REQUIRE_LOCK=1, production) and warn once where it is not. The file is
 * read once per comparison.
 */
import { readFileSync } from 'node:fs';
import { dirname, relative } from 'node:path';
import type { AgentRelease } from '../agent/release.js';
import { TwelveError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { diffLocks, formatDrift, type LockDrift } from './lock-diff.js';
import { buildLock, parseLock } from './lockfile.js';

export interface CompareOptions {
  releases: readonly AgentRelease[];
  lockPath: string;
  /** Where provider packages are resolved from (the config file's directory). */
  projectDir: string;
  env?: NodeJS.ProcessEnv;
  /** Only the given releases' agents are compared (see DiffOptions.partial). */
  partial?: boolean;
}

export type LockComparison = { status: 'missing'; lockPath: string } | { status: 'same' | 'drift'; lockPath: string; drifts: LockDrift[] };

export function compareWithLock({ releases, lockPath, projectDir, env = process.env, partial = false }: CompareOptions): LockComparison {
  let text: string;
  try {
    text = readFileSync(lockPath, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { status: 'missing', lockPath };
    throw new TwelveError('config_invalid', `cannot read ${displayPath(lockPath)}: ${(error as Error).message}`, { cause: error });
  }
  const committed = parseLock(text, displayPath(lockPath));
  const current = buildLock({ releases, env, projectDir, lockDir: dirname(lockPath) });
  const drifts = diffLocks(committed, current, { partial });
  return { status: drifts.length === 0 ? 'same' : 'drift', lockPath, drifts };
}

export interface EnforceOptions extends CompareOptions {
  /** Why the lock is required ("TWELVE_REQUIRE_LOCK=1", "NODE_ENV=production"), or undefined in development. */
  requiredBy: string | undefined;
  /** Where the development warning goes. */
  logger: Logger;
  /** The command refusing to start, for the message: "twelve worker". */
  command: string;
}

/** Throws a config error listing every drift when the lock is required; else warns once about drift. */
export function enforceLock(options: EnforceOptions): void {
  const { requiredBy, logger, command } = options;
  const where = displayPath(options.lockPath);
  let comparison: LockComparison;
  try {
    comparison = compareWithLock(options);
  } catch (error) {
    if (requiredBy || !TwelveError.is(error)) throw error;
    logger.warn({ lock: where }, `${error.message} (${command} starts anyway: no lock is required in development)`);
    return;
  }
  if (comparison.status === 'same') return;
  if (comparison.status === 'missing') {
    if (!requiredBy) return;
    throw new TwelveError(
      'config_invalid',
      `${command} refuses to start: ${requiredBy} requires a lock file and there is none at ${where}. Run twelve build (it writes ${where}), commit it, and deploy that commit`,
      { details: { lock: where, requiredBy } },
    );
  }
  const lines = comparison.drifts.map(formatDrift);
  const count = `${lines.length} change${lines.length === 1 ? '' : 's'}`;
  if (!requiredBy) {
    logger.warn({ lock: where }, `the code differs from ${where} (${count}: ${lines.join('; ')}). Run twelve build to update the lock, and commit it`);
    return;
  }
  throw new TwelveError(
    'config_invalid',
    `${command} refuses to start: the code differs from ${where} (${count}), and ${requiredBy} requires them to match:\n  - ${lines.join('\n  - ')}\nIf these changes are meant, run twelve build to update ${where}, review and commit it, and deploy that commit`,
    { details: { lock: where, requiredBy, drifts: comparison.drifts } },
  );
}

/** Relative to the working directory when inside it: what a person typed or would type. */
export function displayPath(path: string): string {
  const shown = relative(process.cwd(), path);
  return shown && !shown.startsWith('..') ? shown : path;
}
