/**
 * `twelve eval add <thread>`: a real thread becomes an eval case: its input and launch
 * metadata, its recorded tool results as fixtures (side-effect tools never run in the eval),
 * how it ended (status, and the output or --expect-output), and with --expect-tools the tools
 * it called. Appended to evals/<agent>.jsonl beside the project config, or --suite. The
 * thread comes from the local store, or from TWELVE_URL; the suite file is always local.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { TwelveError } from '../../errors.js';
import type { ThreadEvent } from '../../thread/events.js';
import { print, usageError, type Flags } from '../command.js';
import { evalCommand } from './eval.js';

export async function evalAdd(args: string[], flags: Flags): Promise<number> {
  if (args.length !== 1) throw usageError(evalCommand);
  const { openStoreForReading } = await import('../local.js');
  const store = await openStoreForReading();
  let events: ThreadEvent[];
  try {
    if (!(await store.getThread(args[0]!))) throw new TwelveError('thread_not_found', `no thread ${args[0]}`);
    events = await store.loadEvents(args[0]!);
  } finally {
    await store.close();
  }
  return addCase(events, flags);
}

export async function evalAddRemote(args: string[], flags: Flags): Promise<number> {
  if (args.length !== 1) throw usageError(evalCommand);
  const { withClient, allEvents } = await import('../remote/connection.js');
  return withClient(async (client) => {
    await client.getThread(args[0]!);
    return addCase((await allEvents(client, args[0]!)) as unknown as ThreadEvent[], flags);
  });
}

async function addCase(events: ThreadEvent[], flags: Flags): Promise<number> {
  const { caseFromThread } = await import('../../eval/case-from-thread.js');
  const { appendCase, suitePath } = await import('../../eval/suite-file.js');
  const evalCase = caseFromThread(events, { expectTools: Boolean(flags['expect-tools']), ...(flags['expect-output'] !== undefined ? { expectOutput: parseExpectOutput(flags['expect-output']) } : {}) });
  let path: string;
  if (flags.suite) path = resolve(flags.suite);
  else {
    const { projectConfigPath } = await import('../local.js');
    const configPath = await projectConfigPath(flags);
    if (!configPath) throw new TwelveError('usage', 'no twelve.config.ts found, so there is no default suite file: pass --suite <file.jsonl>');
    path = suitePath(dirname(resolve(configPath)), events[0]!.type === 'thread_started' ? events[0]!.data.agent : 'agent');
  }
  appendCase(path, evalCase);
  return print(`added case ${evalCase.id} to ${path}`);
}

/** --expect-output: JSON, or @file holding JSON. */
function parseExpectOutput(value: string): unknown {
  let text = value;
  if (value.startsWith('@')) {
    try {
      text = readFileSync(value.slice(1), 'utf8');
    } catch (error) {
      throw new TwelveError('usage', `--expect-output ${value}: cannot read ${value.slice(1)} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    }
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new TwelveError('usage', `--expect-output${value.startsWith('@') ? ` ${value}` : ''}: not JSON (${(error as Error).message}); quote a string output as JSON, like '"text"'`);
  }
}
