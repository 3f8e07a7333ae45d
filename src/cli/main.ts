/**
 * The `twelve` command line: finds the command, checks its flags, and dispatches to its
 * file in commands/ (locally, or to its remote form when TWELVE_URL is set). Help, per
 * command help and the unknown-command message are built from the command specs.
 */
import { closeOpenMcpConnections } from '../mcp/open-connections.js';
import { parseArgs } from 'node:util';
import { TwelveError, errorMessage } from '../errors.js';
import { version } from '../version.js';
import { allOptions, commonFlags, exitCodes, print, type CommandSpec, type FlagName, type Flags } from './command.js';
import { commands } from './commands/index.js';
import { stopWhenNpmParentExits } from './parent-watch.js';

export { exitCodes, type Flags } from './command.js';

const exitCodeText = `Exit codes: 0 completed, 1 internal error, 2 bad usage or configuration, 3 failed or cancelled, 4 waiting (for a person,
or asleep), 5 conflict (already decided or answered, thread finished, held by another worker), 130 interrupted.`;

/** How each string flag's value reads in help. */
const valueNames: Partial<Record<FlagName, string>> = {
  input: 'text|@file|-', config: 'file', status: 's1,s2', agent: 'name', limit: 'n', as: 'who', comment: 'text', concurrency: 'n',
  reason: 'text', 'max-cost-usd': 'usd', 'max-tokens': 'n', 'max-steps': 'n', subject: 'subject', stream: 'name', durable: 'name',
  lock: 'file',
  release: 'current|id', since: 'age', at: 'seq',
  by: 'dimension', until: 'age|time', tenant: 'name',
  'completed-before': 'age|date', archive: 'file.jsonl.gz', batch: 'n',
  baseline: 'lock|id', model: 'provider:model', threshold: 'n', 'expect-output': 'json|@file', suite: 'file', output: 'json|@file', feedback: 'text',
  thread: 'id', format: 'jsonl',
  host: 'address', port: 'n', 'max-wait': 'seconds',
};

const commonFlagText: Partial<Record<FlagName, string>> = {
  config: 'project config, or one agent file (default: twelve.config.ts found from the working directory up)',
  help: 'this help',
};

export async function main(argv: string[]): Promise<number> {
  try {
    if (argv.length === 0) {
      process.stderr.write(`${globalHelp()}\n`);
      return exitCodes.usage;
    }
    let parsed;
    try {
      parsed = parseArgs({ args: valuesWithDashes(argv), options: allOptions, allowPositionals: true, strict: true });
    } catch (error) {
      throw new TwelveError('usage', `${parseError(error)} (see twelve --help)`);
    }
    const flags = parsed.values as Flags;
    const [name, ...args] = parsed.positionals;
    if (flags.version) return print(`twelve ${version}`);
    if (name === undefined) {
      if (flags.help) return print(globalHelp());
      throw new TwelveError('usage', 'say which command to run (see twelve --help)');
    }
    if (name === 'help') {
      if (args.length === 0) return print(globalHelp());
      return print(commandHelp(find(args[0]!)));
    }
    const spec = find(name);
    if (flags.help) return print(commandHelp(spec));
    const foreign = (Object.keys(flags) as FlagName[]).filter((flag) => !(flag in spec.flags) && !commonFlags.includes(flag));
    if (foreign.length > 0) {
      throw new TwelveError('usage', `twelve ${spec.name} does not take ${foreign.map((flag) => `--${flag}`).join(', ')} (see twelve ${spec.name} --help)`);
    }
    stopWhenNpmParentExits();
    // Remote mode: the same command against a Twelve server over HTTP.
    if (process.env.TWELVE_URL && spec.remote) return await spec.remote(args, flags);
    return await spec.run(args, flags);
  } catch (error) {
    return report(error);
  } finally {
    // MCP servers the command connected (stdio ones are child processes): closed before exit.
    await closeOpenMcpConnections();
  }
}

function find(name: string): CommandSpec {
  const spec = commands.find((command) => command.name === name);
  if (!spec) throw new TwelveError('usage', `unknown command "${name}" (commands: ${commands.map((c) => c.name).join(', ')}; see twelve --help)`);
  return spec;
}

/** node:util's parse errors, shortened to what a user needs. */
function parseError(error: unknown): string {
  const message = errorMessage(error);
  const unknown = /^Unknown option '([^']+)'/.exec(message);
  if (unknown) return `unknown option ${unknown[1]}`;
  return message.replace(/\. To specify a positional argument.*$/s, '');
}

function report(error: unknown): number {
  if (TwelveError.is(error)) {
    process.stderr.write(`twelve: ${error.message}\n`);
    return error.exitCode;
  }
  process.stderr.write(`twelve: internal error: ${errorMessage(error)}\n`);
  if (process.env.TWELVE_DEBUG) process.stderr.write(`${(error as Error)?.stack ?? ''}\n`);
  return 1;
}

function globalHelp(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return `twelve ${version}: run single-purpose LLM agents as durable threads

Usage: twelve <command> [arguments] [options]      twelve <command> --help: that command's usage and options

Commands:
${commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n')}

Options of every command:
  --config <file>   ${commonFlagText.config}
  -h, --help        help (of the command, after a command)
  -v, --version     the version

Environment: TWELVE_DATABASE_URL (default sqlite:.twelve/twelve.db), TWELVE_MODEL_MODE (live|record|replay),
TWELVE_LOG=json, OPENAI_API_KEY, ANTHROPIC_API_KEY, TWELVE_OPENAI_COMPATIBLE_BASE_URL, TWELVE_AGENT_<NAME>_MODEL ...
TWELVE_HUMANS="alice=finance,approver;bob=support" gives people roles for approval policies.
TWELVE_URL=http://host:port with TWELVE_API_KEY: ${commands.filter((c) => c.remote).map((c) => c.name).join(', ')}
talk to a Twelve server (twelve serve / twelve dev) instead of the local store; its workers run the threads, and
decisions are recorded under the API key's name (--as is ignored).

${exitCodeText}`;
}

function commandHelp(spec: CommandSpec): string {
  const flagLines = Object.entries({ ...spec.flags, ...commonFlagText }) as Array<[FlagName, string]>;
  const label = (flag: FlagName) => {
    const option = allOptions[flag];
    const short = 'short' in option ? `-${option.short}, ` : '';
    return `${short}--${flag}${option.type === 'string' ? ` <${valueNames[flag] ?? 'value'}>` : ''}`;
  };
  const width = Math.max(...flagLines.map(([flag]) => label(flag).length));
  const sections = [
    `twelve ${spec.name}: ${spec.summary}`,
    `Usage:\n${spec.usage.map((line) => `  twelve ${line}`).join('\n')}`,
    `Options:\n${flagLines.map(([flag, text]) => `  ${label(flag).padEnd(width)}  ${text}`).join('\n')}`,
  ];
  if (spec.details) sections.push(spec.details);
  if (spec.remote) sections.push(spec.remoteHelp ?? `With TWELVE_URL and TWELVE_API_KEY set, this command talks to that Twelve server instead of the local store.`);
  sections.push(exitCodeText);
  return sections.join('\n\n');
}

/**
 * `--since -5d`: a string flag's value that starts with a dash and a digit is its value (so the
 * flag's own check can say what is wrong with it), not an unknown option.
 */
function valuesWithDashes(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i]!;
    const next = argv[i + 1];
    const name = arg.startsWith('--') && !arg.includes('=') ? (arg.slice(2) as FlagName) : undefined;
    if (name && allOptions[name]?.type === 'string' && next !== undefined && /^-\d/.test(next)) {
      out.push(`${arg}=${next}`);
      i += 1;
    } else out.push(arg);
  }
  return out;
}
