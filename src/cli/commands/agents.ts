/** `twelve agents ls`: the agents, their pinned models, tools and release ids (project or TWELVE_URL). */
import { version } from '../../version.js';
import { print, usageError, type CommandSpec, type Flags } from '../command.js';

interface Row {
  name: string;
  purpose: string;
  releaseId: string;
  models: string[];
  tools: string[];
}

export const agents: CommandSpec = {
  name: 'agents',
  summary: 'agents, their pinned models and release ids',
  usage: ['agents ls [--json]'],
  flags: { json: 'one agent per line (name, purpose, releaseId, models, tools, limits)' },
  async run(args, flags) {
    if (args.length !== 1 || (args[0] !== 'ls' && args[0] !== 'list')) throw usageError(agents);
    const { requireAgents } = await import('../local.js');
    const found = await requireAgents(flags);
    const { loadConfig } = await import('../../config/env.js');
    const { createRelease } = await import('../../agent/release.js');
    const config = loadConfig(process.env, found);
    const releases = found.map((agent) => createRelease(agent, config.agents[agent.name], version));
    if (flags.json) {
      for (const r of releases) process.stdout.write(`${JSON.stringify({ name: r.agent.name, purpose: r.agent.purpose, releaseId: r.releaseId, models: r.models, tools: r.toolSpecs.map((t) => t.name), limits: r.limits })}\n`);
      return 0;
    }
    return printAgents(releases.map((r) => ({ name: r.agent.name, purpose: r.agent.purpose, releaseId: r.releaseId, models: r.models, tools: r.toolSpecs.map((t) => t.name) })), flags);
  },
  async remote(args, flags) {
    if (args.length !== 1 || (args[0] !== 'ls' && args[0] !== 'list')) throw usageError(agents);
    const { withClient } = await import('../remote/connection.js');
    return withClient(async (client) => {
      const { agents: found } = await client.agents();
      if (flags.json) {
        for (const agent of found) process.stdout.write(`${JSON.stringify(agent)}\n`);
        return 0;
      }
      if (found.length === 0) return print('the server runs no agents');
      return printAgents(found.map((a) => ({ ...a, tools: a.tools.map((t) => t.name) })), flags);
    });
  },
};

async function printAgents(rows: Row[], _flags: Flags): Promise<number> {
  const { table } = await import('../format.js');
  const lines = [['AGENT', 'MODEL', 'FALLBACKS', 'TOOLS', 'RELEASE', 'PURPOSE']];
  for (const r of rows) lines.push([r.name, r.models[0] ?? '-', r.models.slice(1).join(',') || '-', r.tools.join(',') || '-', r.releaseId, r.purpose]);
  return print(table(lines));
}
