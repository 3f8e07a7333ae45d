/**
 * `twelve build`: writes twelve.lock.json, what each agent's release is made of, to commit
 * beside the code; `--check` compares the code with the committed lock (for CI) and exits 1
 * on any drift, naming each change.
 */
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { TwelveError } from '../../errors.js';
import { expectArgs, print, type CommandSpec } from '../command.js';

export const build: CommandSpec = {
  name: 'build',
  summary: 'write twelve.lock.json, to commit; --check exits 1 when the code drifted from it',
  usage: ['build [--lock path] [--check] [--json]'],
  flags: {
    lock: 'the lock file (default: twelve.lock.json beside the project config)',
    check: 'write nothing: compare the code with the lock, print each change, exit 1 on any (or when there is no lock)',
    json: 'with --check, the comparison as JSON {lock, status: same|drift|missing, drifts: [{agent, kind, detail}]}',
  },
  details:
    'The lock records per agent its release id, model pins and fallbacks, the @ai-sdk/* package versions its providers use,\nthe prompt\'s path and sha256, each tool\'s effect and schema hashes, the output and input schema hashes, limits, model\nsettings, approval policies, onNewRelease, and the TWELVE_AGENT_<NAME>_* variables that shaped it. Commit it. serve,\nworker and run refuse to start when the code differs from it under TWELVE_REQUIRE_LOCK=1 or NODE_ENV=production\n(TWELVE_REQUIRE_LOCK=0 lifts that), and warn once otherwise. --check exits 0 when the code matches the lock, 1 on any\ndrift or when there is no lock, 2 on usage errors.',
  async run(args, flags) {
    expectArgs(args, 0, build);
    const { requireAgents, projectConfigPath } = await import('../local.js');
    const agents = await requireAgents(flags);
    const projectDir = dirname(resolve((await projectConfigPath(flags))!));
    const { loadConfig } = await import('../../config/env.js');
    const { createRelease } = await import('../../agent/release.js');
    const { version } = await import('../../version.js');
    const { buildLock, renderLock, lockFileName } = await import('../../release/lockfile.js');
    const { compareWithLock, displayPath } = await import('../../release/lock-check.js');
    const lockPath = lockPathOf(flags.lock, projectDir, lockFileName);
    const config = loadConfig(process.env, agents);
    const releases = agents.map((agent) => createRelease(agent, config.agents[agent.name], version));
    const where = displayPath(lockPath);
    if (flags.check) {
      let comparison;
      try {
        comparison = compareWithLock({ releases, lockPath, projectDir });
      } catch (error) {
        // A lock that does not parse (a merge left conflict markers in it) fails the check like a drift.
        if (TwelveError.is(error, 'config_invalid')) throw new TwelveError('config_invalid', error.message, { exitCode: 1, cause: error });
        throw error;
      }
      const drifts = comparison.status === 'missing' ? [] : comparison.drifts;
      if (flags.json) print(JSON.stringify({ lock: where, status: comparison.status, drifts }));
      if (comparison.status === 'missing') {
        throw new TwelveError('config_invalid', `no lock file at ${where}: run twelve build to write it, and commit it`, { exitCode: 1, details: { lock: where } });
      }
      if (comparison.status === 'same') {
        if (!flags.json) print(`${where} matches the code (${releases.length} agent${releases.length === 1 ? '' : 's'})`);
        return 0;
      }
      if (!flags.json) {
        const { formatDrift } = await import('../../release/lock-diff.js');
        print(drifts.map(formatDrift).join('\n'));
        process.stderr.write(`twelve build --check: the code differs from ${where} (${drifts.length} change${drifts.length === 1 ? '' : 's'}); run twelve build to update it, and commit it\n`);
      }
      return 1;
    }
    if (flags.json) throw new TwelveError('usage', '--json goes with --check (twelve build writes the lock and prints one line per agent)');
    const text = renderLock(buildLock({ releases, projectDir, lockDir: dirname(lockPath) }));
    const unchanged = existsSync(lockPath) && readFileSync(lockPath, 'utf8') === text;
    if (!unchanged) writeFileSync(lockPath, text);
    const width = Math.max(...releases.map((r) => r.agent.name.length));
    print(releases.map((r) => `${r.agent.name.padEnd(width)}  ${r.releaseId}`).join('\n'));
    process.stderr.write(`twelve build: ${unchanged ? `${where} is up to date` : `wrote ${where}`} (${releases.length} agent${releases.length === 1 ? '' : 's'})\n`);
    return 0;
  },
};

/** --lock names a file, or a directory to put twelve.lock.json in; default beside the project config. */
function lockPathOf(flag: string | undefined, projectDir: string, fileName: string): string {
  if (flag === undefined) return join(projectDir, fileName);
  if (!flag.trim()) throw new TwelveError('usage', '--lock needs a file path (for example --lock twelve.lock.json)');
  const path = resolve(flag);
  if (flag.endsWith('/') || (existsSync(path) && statSync(path).isDirectory())) return join(path, fileName);
  if (!existsSync(dirname(path))) throw new TwelveError('usage', `--lock ${flag}: the folder ${dirname(flag)} does not exist`);
  return path;
}
