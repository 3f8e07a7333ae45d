/** `twelve run`: launch a thread and run it here (or, with TWELVE_URL, on the server), printing each step. */
import { TwelveError } from '../../errors.js';
import { expectArgs, looksLikePath, type CommandSpec, type Flags } from '../command.js';

export const run: CommandSpec = {
  name: 'run',
  summary: 'launch a thread and run it, printing each step',
  usage: ['run <agent|path/to/agent.ts> --input <text|@file|-> [--wait] [--json]'],
  flags: {
    input: 'the input: text, @file to read a file, - for standard input (JSON when the agent takes structured input)',
    wait: 'when the thread waits for a person, keep waiting here and continue when they act (else exit 4)',
    json: 'one JSON event per line',
  },
  details:
    'Runs the thread in this process until it completes, fails, or waits for a person. Ctrl-C lets the step in flight\nfinish and be recorded (a second Ctrl-C leaves at once); continue with twelve resume <thread>, from any process.',
  async run(args, flags) {
    const target = target1(args, flags);
    const { readInputText, coerceInput } = await import('../input.js');
    const text = readInputText(flags.input!);
    const { loadAgents, makeRuntime } = await import('../local.js');
    const isPath = looksLikePath(target);
    const agents = await loadAgents(flags, isPath ? target : undefined);
    if (!isPath && agents.length === 0) {
      throw new TwelveError('usage', `no agents found: add a twelve.config.ts that exports defineConfig({ agents: [...] }), pass --config, or give a path to an agent file`);
    }
    const agentName = isPath ? agents[0]!.name : target;
    const runtime = await makeRuntime(agents, { command: 'twelve run', flags, ...(isPath ? { agentPath: target } : {}) });
    try {
      const release = runtime.release(agentName);
      const thread = await runtime.launch({ agent: agentName, input: coerceInput(text, release.agent.inputSchema), checkModels: true });
      if (!flags.json) process.stdout.write(`${thread.id}  agent ${agentName}  release ${release.releaseId}\n`);
      const { follow } = await import('../follow.js');
      return await follow(runtime, thread.id, flags, { printAfterSeq: 0 });
    } finally {
      await runtime.close();
    }
  },
  async remote(args, flags) {
    const agent = target1(args, flags);
    if (looksLikePath(agent)) throw new TwelveError('usage', `with TWELVE_URL, run takes the name of an agent the server runs (twelve agents ls), not a file; to run ${agent} here, unset TWELVE_URL`);
    const { readInputText } = await import('../input.js');
    const text = readInputText(flags.input!);
    const { withClient } = await import('../remote/connection.js');
    const { ApiError } = await import('../../client/index.js');
    return withClient(async (client) => {
      let launched;
      try {
        launched = await client.launch(agent, text);
      } catch (error) {
        // As locally: the text as it is, or JSON when the agent wants structured input and the text parses.
        const json = parseJson(text);
        if (!ApiError.is(error) || error.code !== 'input_invalid' || json === undefined) throw error;
        launched = await client.launch(agent, json);
      }
      const { thread } = launched;
      if (!flags.json) process.stdout.write(`${thread.id}  agent ${agent}  release ${thread.releaseId}\n`);
      const { followRemote } = await import('../remote/follow.js');
      return followRemote(client, thread.id, flags, { printAfterSeq: 0 });
    });
  },
};

function target1(args: string[], flags: Flags): string {
  expectArgs(args, 1, run);
  if (flags.input === undefined) throw new TwelveError('usage', 'twelve run needs --input <text|@file|-> (see twelve run --help)');
  return args[0]!;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
