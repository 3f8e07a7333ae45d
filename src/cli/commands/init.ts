/** `twelve init [dir]`: a new project with one agent, its recordings and a test, ready to run offline. */
import { existsSync } from 'node:fs';
import { isAbsolute, join, relative } from 'node:path';
import { TwelveError } from '../../errors.js';
import { print, type CommandSpec } from '../command.js';

export const init: CommandSpec = {
  name: 'init',
  summary: 'start a project: one agent with a tool, its prompt, recordings and a test (runs offline at once)',
  usage: ['init [dir] [--force]'],
  flags: {
    force: 'write into a folder that has other files in it (the project\'s files are overwritten, nothing is removed)',
  },
  details:
    'Writes package.json (an ES module project depending on this twelve-agents and zod; merged into the one npm install\nleft behind), tsconfig.json, twelve.config.ts, agents/support.ts with its prompt and recorded model responses,\nsamples/question.txt, test/support.test.ts (node --test with a scripted model), .env.example (every setting),\nREADME.md and .gitignore. dir defaults to the working directory, which may hold only package.json, package-lock.json\nand node_modules unless --force. Then: TWELVE_MODEL_MODE=replay npx twelve run support --input @samples/question.txt',
  async run(args, flags) {
    if (args.length > 1) throw new TwelveError('usage', 'usage: twelve init [dir] [--force] (see twelve init --help)');
    const target = args[0] ?? '.';
    const { scaffold } = await import('../scaffold.js');
    const { version } = await import('../../version.js');
    const { readFileSync } = await import('node:fs');
    const ownPackage = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { peerDependencies?: Record<string, string> };
    const result = scaffold({ dir: target, version, zodRange: ownPackage.peerDependencies?.zod ?? '^4', force: flags.force === true });
    const where = isAbsolute(target) ? result.dir : relative(process.cwd(), result.dir) || '.';
    const lines = [`twelve init: a Twelve project in ${where}`];
    for (const file of result.files) lines.push(`  ${file.action.padEnd(9)} ${file.path}`);
    const steps: string[] = [];
    if (where !== '.') steps.push(`cd ${where}`);
    if (!installed(result.dir)) steps.push('npm install');
    steps.push(
      'TWELVE_MODEL_MODE=replay npx twelve run support --input @samples/question.txt   # offline, from agents/recordings',
      'npm test                                                                         # test/support.test.ts, a scripted model',
      'OPENAI_API_KEY=sk-... npx twelve run support --input "Where is order A-1002?"    # live',
    );
    lines.push('', 'Next:', ...steps.map((step) => `  ${step}`));
    return print(lines.join('\n'));
  },
};

/** Whether twelve-agents resolves from dir (installed there or in a folder above). */
function installed(dir: string): boolean {
  for (let directory = dir; ; directory = join(directory, '..')) {
    if (existsSync(join(directory, 'node_modules', 'twelve-agents', 'package.json'))) return true;
    if (join(directory, '..') === directory) return false;
  }
}
