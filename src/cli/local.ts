/** What local commands share: loading the project's agents, a runtime, a read-only store. */
import { TwelveError } from '../errors.js';
import type { Agent } from '../agent/define-agent.js';
import type { Runtime } from '../runtime/runtime.js';
import type { Store } from '../store/types.js';
import type { Flags } from './command.js';

export async function loadAgents(flags: Flags, agentPath?: string): Promise<Agent[]> {
  const project = await import('../config/project.js');
  if (agentPath) return project.loadAgentFile(agentPath);
  const configPath = flags.config ?? process.env.TWELVE_CONFIG ?? project.findProjectConfig();
  if (!configPath) return [];
  return (await project.loadProjectConfig(configPath)).agents;
}

/** The project's agents, or a usage error saying how to declare them. */
export async function requireAgents(flags: Flags): Promise<Agent[]> {
  const agents = await loadAgents(flags);
  if (agents.length === 0) throw new TwelveError('usage', 'no agents found: add a twelve.config.ts that exports defineConfig({ agents: [...] }), or pass --config');
  return agents;
}

export async function makeRuntime(agents: Agent[]): Promise<Runtime> {
  const { createRuntime } = await import('../runtime/runtime.js');
  return createRuntime({ agents });
}

/** The store named by TWELVE_DATABASE_URL, refusing to create one (read-only commands). */
export async function openStoreForReading(): Promise<Store> {
  const { loadConfig } = await import('../config/env.js');
  const { openStore } = await import('../store/open.js');
  return openStore(loadConfig(process.env).databaseUrl, { mustExist: true });
}
