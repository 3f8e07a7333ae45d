/**
 * MCP drift: a server whose tools differ from what the release pinned. `twelve build` writes
 * each MCP tool's input-schema and description hashes (and its server) into twelve.lock.json
 * like any tool's; at start, the tools the servers list now are compared with those, and any
 * difference refuses the start naming the server and the tool. Refused, not held: the lock is
 * what was reviewed, and a server that changed under it is a deploy nobody made. (Without a lock
 * the release is whatever the servers list, and a change makes a new release id, which open
 * threads meet through onNewRelease like any release change.)
 */
import type { AgentRelease } from '../agent/release.js';
import { TwelveError } from '../errors.js';
import { hashJson, hashText, type Lockfile } from '../release/lockfile.js';

/** Each difference in words: "agent files-agent: MCP server "files", tool read_file: input schema changed (...)". */
export function mcpDrift(releases: readonly AgentRelease[], lock: Lockfile): string[] {
  const problems: string[] = [];
  for (const release of releases) {
    const pinned = lock.agents[release.agent.name];
    if (!pinned) continue; // an agent the lock does not know is the lock check's to report
    const current = new Set<string>();
    for (const spec of release.toolSpecs) {
      const tool = release.agent.tools.get(spec.name);
      if (!tool?.mcp) continue;
      current.add(spec.name);
      const where = `agent ${release.agent.name}: MCP server "${tool.mcp.server}", tool ${spec.name}`;
      const entry = pinned.tools.find((t) => t.name === spec.name);
      if (!entry) {
        problems.push(`${where}: not in the release (the server lists a tool the lock does not pin)`);
        continue;
      }
      const input = hashJson(spec.inputSchema);
      if (entry.inputSchemaSha256 !== input) problems.push(`${where}: input schema changed (sha256 ${entry.inputSchemaSha256.slice(0, 8)}… → ${input.slice(0, 8)}…)`);
      if (entry.descriptionSha256 !== hashText(spec.description)) problems.push(`${where}: description changed`);
    }
    for (const entry of pinned.tools) {
      if (entry.mcp && !current.has(entry.name)) problems.push(`agent ${release.agent.name}: MCP server "${entry.mcp}", tool ${entry.name}: pinned in the release but the server no longer lists it`);
    }
  }
  return problems;
}

/** Throws the refusal when the servers drifted from the lock. */
export function assertNoMcpDrift(releases: readonly AgentRelease[], lock: Lockfile, lockName: string, command: string): void {
  const problems = mcpDrift(releases, lock);
  if (problems.length === 0) return;
  throw new TwelveError(
    'config_invalid',
    `${command} refuses to start: MCP server tools differ from the release pinned in ${lockName} (${problems.length} change${problems.length === 1 ? '' : 's'}):\n  - ${problems.join('\n  - ')}\nIf the servers' changes are meant, run twelve build to pin them, review and commit ${lockName}, and deploy that commit`,
    { details: { lock: lockName, problems } },
  );
}
