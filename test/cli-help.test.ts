/** The `twelve` command's help as a user meets it: global, per command, and what a wrong command gets. */
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli.js';
import { commands } from '../src/cli/commands/index.js';

const everyCommand = ['init', 'run', 'say', 'resume', 'fork', 'threads', 'inbox', 'approve', 'reject', 'answer', 'review', 'budget', 'pause', 'cancel', 'agents', 'releases', 'costs', 'replay', 'audit', 'deploy', 'build', 'eval', 'worker', 'consume', 'migrate', 'prune', 'serve', 'dev', 'mcp'];

describe('twelve help', () => {
  it('lists every command in the help, and with no arguments prints it on stderr and exits 2', async () => {
    expect(commands.map((c) => c.name)).toEqual(everyCommand);
    const [help, bare] = await Promise.all([runCli(['--help']), runCli([])]);
    expect(help.code).toBe(0);
    for (const name of everyCommand) expect(help.stdout).toMatch(new RegExp(`^  ${name} +\\S`, 'm'));
    expect(help.stdout).toContain('twelve <command> --help');
    expect(bare.code).toBe(2);
    expect(bare.stdout).toBe('');
    expect(bare.stderr).toMatch(/^ {2}consume +launch a thread per message/m);
  });

  it('prints one command\'s usage and options for <command> --help and help <command>', async () => {
    const [worker, consume, approve, viaHelp] = await Promise.all([
      runCli(['worker', '--help']),
      runCli(['consume', '-h']),
      runCli(['approve', '--help']),
      runCli(['help', 'threads']),
    ]);
    for (const result of [worker, consume, approve, viaHelp]) expect(result.code).toBe(0);
    expect(worker.stdout).toMatch(/^twelve worker: run threads in the background/);
    expect(worker.stdout).toMatch(/^ {2}twelve worker \[--concurrency n\]$/m);
    expect(worker.stdout).toMatch(/--concurrency <n> +threads run at once/);
    expect(worker.stdout).toContain('TWELVE_SHUTDOWN_GRACE_MS');
    expect(worker.stdout).not.toContain('twelve run <agent');
    expect(consume.stdout).toMatch(/^ {2}twelve consume nats \[--subject/m);
    expect(consume.stdout).toContain('Nats-Msg-Id');
    expect(approve.stdout).toMatch(/^ {2}twelve approve <thread> \[callId\] --as <who>/m);
    expect(approve.stdout).toMatch(/--as <who> +who acts/);
    expect(approve.stdout).toContain('With TWELVE_URL and TWELVE_API_KEY set');
    expect(viaHelp.stdout).toMatch(/^ {2}twelve threads show <thread>/m);
  });

  it('names every command when the command is unknown, and refuses a flag the command does not take', async () => {
    const [unknown, foreign, unknownHelp] = await Promise.all([runCli(['launch']), runCli(['worker', '--input', 'x']), runCli(['help', 'nope'])]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr.trim()).toBe(`twelve: unknown command "launch" (commands: ${everyCommand.join(', ')}; see twelve --help)`);
    expect(foreign.code).toBe(2);
    expect(foreign.stderr.trim()).toBe('twelve: twelve worker does not take --input (see twelve worker --help)');
    expect(unknownHelp.code).toBe(2);
    expect(unknownHelp.stderr).toMatch(/unknown command "nope"/);
  });

  it('gives a wrong use of a command its own usage line', async () => {
    const [threads, approve] = await Promise.all([runCli(['threads', 'rm', 'x']), runCli(['approve'])]);
    expect(threads.code).toBe(2);
    expect(threads.stderr.trim()).toMatch(/^twelve: usage: twelve threads ls .* \| twelve threads show <thread> \[--messages\] \[--json\] \(see twelve threads --help\)$/);
    expect(approve.code).toBe(2);
    expect(approve.stderr.trim()).toMatch(/^twelve: usage: twelve approve <thread> \[callId\] --as <who>.*\(see twelve approve --help\)$/);
  });
});
