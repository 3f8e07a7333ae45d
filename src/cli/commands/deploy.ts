/** `twelve deploy plan`: what deploying the working tree's code would do to every thread in flight, before deploying. */
import { version } from '../../version.js';
import { print, usageError, type CommandSpec } from '../command.js';

export const deploy: CommandSpec = {
  name: 'deploy',
  summary: 'what a deploy of this code would do to the threads in flight',
  usage: ['deploy plan [--agent a] [--json]'],
  flags: { agent: 'only this agent', json: 'the plan as one JSON object' },
  details:
    'For each agent of the project (its release as the working tree builds it), every unfinished thread in the store\n(TWELVE_DATABASE_URL), grouped by the release that last stepped it, and what a worker on the new release would do:\nstays (already on it), continue (the move is compatible, or the agent says onNewRelease: "continue"), hold (it waits for\na person: twelve resume or twelve cancel), or left (a newer release already stepped it). Reads only; writes nothing.',
  async run(args, flags) {
    if (args.length !== 1 || args[0] !== 'plan') throw usageError(deploy);
    const { requireAgents, openStoreForReading } = await import('../local.js');
    const { loadConfig } = await import('../../config/env.js');
    const { createRelease } = await import('../../agent/release.js');
    const { TwelveError } = await import('../../errors.js');
    const found = await requireAgents(flags);
    const chosen = flags.agent ? found.filter((agent) => agent.name === flags.agent) : found;
    if (chosen.length === 0) throw new TwelveError('agent_not_found', `unknown agent "${flags.agent}" (known: ${found.map((a) => a.name).join(', ')})`);
    const config = loadConfig(process.env, found);
    const releases = chosen.map((agent) => createRelease(agent, config.agents[agent.name], version)).map((r) => ({ agent: r.agent.name, releaseId: r.releaseId, manifest: r.manifest }));
    const store = await openStoreForReading();
    try {
      const { planDeploy } = await import('../../release/deploy-plan.js');
      const plan = await planDeploy({ store, releases });
      if (flags.json) {
        process.stdout.write(`${JSON.stringify(plan)}\n`);
        return 0;
      }
      const { table, statusText } = await import('../format.js');
      const lines: string[] = [];
      for (const agent of plan.agents) {
        lines.push(`${agent.agent}: this code is release ${agent.releaseId}`);
        if (agent.groups.length === 0) lines.push('  no threads in flight');
        for (const group of agent.groups) {
          const n = group.threads.length;
          const whose = group.releaseId === agent.releaseId ? ' (this release)' : group.known ? '' : ' (not in the store: its manifest is unknown)';
          lines.push(`  from ${group.releaseId}${whose}: ${n} thread${n === 1 ? '' : 's'}`);
          for (const change of group.changes) lines.push(`    changed: ${change.detail}`);
          const rows = group.threads.map((t) => [`    ${t.id}`, statusText(t.status), t.action, t.reason]);
          lines.push(table([['    THREAD', 'STATUS', 'DEPLOY', 'WHY'], ...rows]));
        }
      }
      const s = plan.summary;
      lines.push(`${s.threads} thread${s.threads === 1 ? '' : 's'} in flight: ${s.stays} stay, ${s.continue} continue, ${s.hold} hold for a person, ${s.left} left to a newer release`);
      return print(lines.join('\n'));
    } finally {
      await store.close();
    }
  },
};
