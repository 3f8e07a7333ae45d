/**
 * What every `twelve` command is made of: its usage text, the flags it accepts and a run
 * function (and, for commands that also work against a server, a remote form). main.ts
 * only dispatches, so per-command help and the unknown-command list come from the specs.
 * A leaf module: commands, the remote CLI and the argument parsers import it, never main.ts.
 */
import type { ParseArgsConfig } from 'node:util';
import { TwelveError } from '../errors.js';

/** Exit codes: 0 completed, 1 internal error, 2 bad usage or config, 3 failed or cancelled, 4 waiting, 5 conflict, 130 interrupted. */
export const exitCodes = { completed: 0, usage: 2, failed: 3, waiting: 4, conflict: 5, interrupted: 130 } as const;

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

/** Every flag any command takes; each command accepts only its own (plus the common ones). */
export const allOptions = {
  input: { type: 'string', short: 'i' },
  json: { type: 'boolean' },
  config: { type: 'string' },
  status: { type: 'string' },
  agent: { type: 'string' },
  limit: { type: 'string' },
  as: { type: 'string' },
  comment: { type: 'string' },
  concurrency: { type: 'string' },
  reason: { type: 'string' },
  wait: { type: 'boolean' },
  run: { type: 'boolean' },
  'max-cost-usd': { type: 'string' },
  'max-tokens': { type: 'string' },
  'max-steps': { type: 'string' },
  subject: { type: 'string' },
  stream: { type: 'string' },
  durable: { type: 'string' },
  lock: { type: 'string' },
  check: { type: 'boolean' },
  at: { type: 'string' },
  release: { type: 'string' },
  detach: { type: 'boolean' },
  since: { type: 'string' },
  live: { type: 'boolean' },
  baseline: { type: 'string' },
  model: { type: 'string' },
  threshold: { type: 'string' },
  save: { type: 'boolean' },
  'expect-output': { type: 'string' },
  'expect-tools': { type: 'boolean' },
  suite: { type: 'string' },
  output: { type: 'string' },
  feedback: { type: 'string' },
  by: { type: 'string' },
  until: { type: 'string' },
  tenant: { type: 'string' },
  // twelve prune (retention)
  'completed-before': { type: 'string' },
  archive: { type: 'string' },
  'delete-only': { type: 'boolean' },
  batch: { type: 'string' },
  'dry-run': { type: 'boolean' },
  force: { type: 'boolean' },
  // twelve audit
  thread: { type: 'string' },
  all: { type: 'boolean' },
  format: { type: 'string' },
  redact: { type: 'boolean' },
  messages: { type: 'boolean' },
  // twelve init uses force (above) too
  // twelve mcp
  http: { type: 'boolean' },
  host: { type: 'string' },
  port: { type: 'string' },
  'no-worker': { type: 'boolean' },
  'max-wait': { type: 'string' },
  // twelve say (conversations)
  'no-wait': { type: 'boolean' },
  'message-id': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
} as const satisfies OptionSpec;

export type FlagName = keyof typeof allOptions;
export type Flags = { [K in FlagName]?: (typeof allOptions)[K]['type'] extends 'string' ? string : boolean };

/** Flags every command accepts. */
export const commonFlags: readonly FlagName[] = ['help', 'config'];

export interface CommandSpec {
  name: string;
  /** One line for the global help. */
  summary: string;
  /** Usage lines, without the leading "twelve ". */
  usage: string[];
  /** What each flag of this command means (flag -> text), shown by `twelve <command> --help`. */
  flags: Partial<Record<FlagName, string>>;
  /** More paragraphs for `twelve <command> --help`. */
  details?: string;
  run(args: string[], flags: Flags): Promise<number>;
  /** The same command against a Twelve server (TWELVE_URL + TWELVE_API_KEY). */
  remote?(args: string[], flags: Flags): Promise<number>;
  /** What the help says the remote form does, when it is not the whole command. */
  remoteHelp?: string;
}

export function print(text: string): number {
  process.stdout.write(`${text}\n`);
  return 0;
}

export function usageError(spec: Pick<CommandSpec, 'name' | 'usage'>): TwelveError {
  return new TwelveError('usage', `usage: ${spec.usage.map((line) => `twelve ${line}`).join(' | ')} (see twelve ${spec.name} --help)`);
}

/** Commands that read the database directly (audit, prune) refuse TWELVE_URL rather than ignore it. */
export function refuseRemote(name: string): void {
  if (process.env.TWELVE_URL) {
    throw new TwelveError('usage', `twelve ${name} reads the database directly, not a server: set TWELVE_DATABASE_URL and unset TWELVE_URL`);
  }
}

export function expectArgs(args: string[], count: number, spec: Pick<CommandSpec, 'name' | 'usage'>): void {
  if (args.length !== count) throw usageError(spec);
}

export const looksLikePath = (value: string) => /[\\/]/.test(value) || /\.[cm]?[jt]s$/.test(value);

export function defaultUser(): string {
  return process.env.TWELVE_USER ?? process.env.USER ?? 'cli';
}
