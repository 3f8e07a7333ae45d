/** What local commands share: loading the project's agents, a runtime, a read-only store. */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { TwelveError } from '../errors.js';
import type { Agent } from '../agent/define-agent.js';
import type { Runtime } from '../runtime/runtime.js';
import type { Store } from '../store/types.js';
import type { Flags } from './command.js';

export async function loadAgents(flags: Flags, agentPath?: string): Promise<Agent[]> {
  const project = await import('../config/project.js');
  if (agentPath) return withMcpTools(await project.loadAgentFile(agentPath), flags, agentPath);
  const configPath = await projectConfigPath(flags);
  if (!configPath) return [];
  return withMcpTools((await project.loadProjectConfig(configPath)).agents, flags);
}

/**
 * Agents that use mcpTools(...) get their servers' tools: the servers of the project's config are
 * connected (src/mcp/connect.ts), and closed when the command ends (cli/main.ts). The MCP SDK
 * loads only for such agents.
 */
export async function withMcpTools(agents: Agent[], flags: Flags, agentPath?: string): Promise<Agent[]> {
  if (!agents.some((agent) => (agent.mcpToolSets ?? []).length > 0)) return agents;
  const project = await import('../config/project.js');
  const { parseMcpServers } = await import('../mcp/server-config.js');
  const { connectMcpTools } = await import('../mcp/connect.js');
  const configPath = await projectConfigPath(flags, agentPath);
  const declared = configPath && configPath !== agentPath ? (await project.loadProjectConfig(configPath)).mcpServers : undefined;
  const where = configPath ? `${configPath}: mcpServers` : 'mcpServers';
  return (await connectMcpTools(agents, parseMcpServers(declared, where))).agents;
}

/** The project's agents, or a usage error saying how to declare them. */
export async function requireAgents(flags: Flags): Promise<Agent[]> {
  const agents = await loadAgents(flags);
  if (agents.length === 0) throw new TwelveError('usage', 'no agents found: add a twelve.config.ts that exports defineConfig({ agents: [...] }), or pass --config');
  return agents;
}

/** A process that runs threads (serve, worker, run): its runtime is checked against twelve.lock.json. */
export interface LockedStart {
  /** "twelve worker", for the refusal message. */
  command: string;
  flags: Flags;
  /** `twelve run path/to/agent.ts`: the agent file that was loaded instead of the project config. */
  agentPath?: string;
}

export async function makeRuntime(agents: Agent[], locked?: LockedStart): Promise<Runtime> {
  const { createRuntime } = await import('../runtime/runtime.js');
  const runtime = createRuntime({ agents });
  if (locked) {
    try {
      await checkLock(runtime, locked);
    } catch (error) {
      await runtime.close();
      throw error;
    }
  }
  return runtime;
}

/**
 * Where the lock is required (TWELVE_REQUIRE_LOCK=1, NODE_ENV=production) a drift or a missing
 * lock refuses the start; in development a drift is a warning and no lock is nothing. The lock
 * code loads only when there is something to compare, so a start without a lock costs one stat.
 */
async function checkLock(runtime: Runtime, { command, flags, agentPath }: LockedStart): Promise<void> {
  const configPath = await projectConfigPath(flags, agentPath);
  if (!configPath) return;
  const projectDir = dirname(resolve(configPath));
  // The name only: lockfile.ts (zod schemas) is not loaded when there is no lock.
  const lockPath = join(projectDir, 'twelve.lock.json');
  const required = runtime.config.requireLock;
  if (!required && !existsSync(lockPath)) return;
  if (runtime.agents.some((release) => [...release.agent.tools.values()].some((tool) => tool.mcp)) && existsSync(lockPath)) {
    // MCP servers that changed under the lock refuse the start, lock required or not (src/mcp/drift.ts).
    const [{ readFileSync }, { parseLock }, { assertNoMcpDrift }, { displayPath }] = await Promise.all([import('node:fs'), import('../release/lockfile.js'), import('../mcp/drift.js'), import('../release/lock-check.js')]);
    const lock = parseLock(readFileSync(lockPath, 'utf8'), displayPath(lockPath));
    assertNoMcpDrift(runtime.agents, lock, displayPath(lockPath), command);
  }
  const { enforceLock } = await import('../release/lock-check.js');
  const requiredBy = !required ? undefined : process.env.TWELVE_REQUIRE_LOCK !== undefined ? `TWELVE_REQUIRE_LOCK=${process.env.TWELVE_REQUIRE_LOCK}` : 'NODE_ENV=production';
  enforceLock({ releases: runtime.agents, lockPath, projectDir, partial: agentPath !== undefined, requiredBy, logger: runtime.logger, command });
}

/**
 * The project config a command's agents came from. For an agent file run by path, the project
 * around it (a twelve.config found from its folder up), else the file itself.
 */
export async function projectConfigPath(flags: Flags, agentPath?: string): Promise<string | undefined> {
  const project = await import('../config/project.js');
  if (agentPath) return project.findProjectConfig(dirname(resolve(agentPath))) ?? agentPath;
  return flags.config ?? process.env.TWELVE_CONFIG ?? project.findProjectConfig();
}

/** The store named by TWELVE_DATABASE_URL, refusing to create one (read-only commands). */
export async function openStoreForReading(): Promise<Store> {
  const { loadConfig } = await import('../config/env.js');
  const { openStore } = await import('../store/open.js');
  return openStore(loadConfig(process.env).databaseUrl, { mustExist: true });
}
