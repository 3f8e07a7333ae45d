/**
 * The project config file, `twelve.config.ts` (or .mts/.js/.mjs), found from the
 * working directory upwards. It lists the agents the CLI can run:
 *
 *   export default defineConfig({ agents: [refunds, emailClassifier] });
 *
 * A path to an agent file works too (`twelve run ./agents/refunds.ts`): its default
 * export, or every exported agent.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { isAgent, type Agent } from '../agent/define-agent.js';
import { TwelveError } from '../errors.js';
import { isEvalSuite, type EvalSuite } from '../eval/define-eval.js';
import type { McpServerConfig } from '../mcp/server-config.js';

export interface ProjectConfig {
  agents: Agent[];
  /** Eval suites written with defineEval (`twelve eval <suite>`); an agent's evals/<agent>.jsonl needs no entry. */
  evals?: EvalSuite[];
  /**
   * Tool name -> implementation ("live", "fake", or one of the tool's `implementations`) for
   * every agent with that tool; TWELVE_TOOL_<NAME> wins over it.
   */
  toolBindings?: Record<string, string>;
  /** MCP servers whose tools agents use with mcpTools(name, ...) (src/mcp/). */
  mcpServers?: Record<string, McpServerConfig>;
}

/** @example export default defineConfig({ agents: [refunds] }); */
export function defineConfig(config: ProjectConfig): ProjectConfig {
  return config;
}

const configNames = ['twelve.config.ts', 'twelve.config.mts', 'twelve.config.js', 'twelve.config.mjs'];

export function findProjectConfig(from = process.cwd()): string | undefined {
  let directory = resolve(from);
  for (;;) {
    for (const name of configNames) {
      const candidate = join(directory, name);
      if (existsSync(candidate)) return candidate;
    }
    const parent = dirname(directory);
    if (parent === directory) return undefined;
    directory = parent;
  }
}

let tsxRegistered = false;

/** Imports a module, registering tsx first when it is TypeScript. */
export async function importModule(path: string): Promise<Record<string, unknown>> {
  const absolute = resolve(path);
  if (!existsSync(absolute)) throw new TwelveError('usage', `cannot read ${path}: no such file`);
  if (/\.[mc]?ts$/.test(absolute) && !tsxRegistered) {
    const { register } = await import('tsx/esm/api');
    register();
    tsxRegistered = true;
  }
  try {
    return (await import(pathToFileURL(absolute).href)) as Record<string, unknown>;
  } catch (error) {
    if (error instanceof TwelveError) throw error;
    const message = (error as Error).message.split('\n')[0]!.replace(/\.?$/, '');
    // A missing package is its own problem; anything else may be CommonJS loading ESM syntax.
    const hint = (error as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND' ? '' : commonJsHint(absolute);
    throw new TwelveError('usage', `cannot load ${path}: ${message}${hint}`, { cause: error });
  }
}

/**
 * Why a load may have failed in a CommonJS project: without `"type": "module"` in the nearest
 * package.json, Node (and tsx) load .ts and .js files as CommonJS, where `import` of the
 * ESM-only twelve-agents and `import.meta.url` fail with messages that do not say so.
 * Empty when the file is an ES module anyway (.mts, .mjs, or a "module" package).
 */
export function commonJsHint(file: string): string {
  if (/\.m[jt]s$/.test(file)) return '';
  const manifest = nearestPackageJson(dirname(file));
  if (manifest) {
    let type: unknown;
    try {
      type = (JSON.parse(readFileSync(manifest, 'utf8')) as { type?: unknown }).type;
    } catch {
      return '';
    }
    if (type === 'module') return '';
    return `. ${manifest} has no "type": "module", so Node loads .ts and .js files as CommonJS; Twelve projects are ES modules: add "type": "module" to it`;
  }
  return `. No package.json above ${dirname(file)}, so Node loads .ts and .js files as CommonJS; Twelve projects are ES modules: add a package.json with "type": "module" (twelve init writes one)`;
}

function nearestPackageJson(from: string): string | undefined {
  for (let directory = from; ; directory = dirname(directory)) {
    const candidate = join(directory, 'package.json');
    if (existsSync(candidate)) return candidate;
    if (dirname(directory) === directory) return undefined;
  }
}

/** A project config, or (as a shortcut) an agent file: `--config agents/refunds.ts`. */
export async function loadProjectConfig(path: string): Promise<ProjectConfig> {
  const module = await importModule(path);
  if (isAgent(module.default) || (!module.default && Object.values(module).some(isAgent))) return { agents: await loadAgentFile(path) };
  const config = (module.default ?? module.config) as ProjectConfig | undefined;
  if (!config || !Array.isArray(config.agents)) {
    throw new TwelveError('usage', `${path} must export default defineConfig({ agents: [...] })`);
  }
  for (const [index, agent] of config.agents.entries()) {
    if (!isAgent(agent)) throw new TwelveError('usage', `${path}: agents[${index}] is not an agent created with defineAgent`);
  }
  if (config.evals !== undefined && !Array.isArray(config.evals)) throw new TwelveError('usage', `${path}: evals must be a list of suites created with defineEval`);
  for (const [index, suite] of (config.evals ?? []).entries()) {
    if (!isEvalSuite(suite)) throw new TwelveError('usage', `${path}: evals[${index}] is not a suite created with defineEval`);
  }
  if (config.toolBindings !== undefined) {
    const bindings = config.toolBindings;
    if (typeof bindings !== 'object' || bindings === null || Array.isArray(bindings) || Object.values(bindings).some((v) => typeof v !== 'string')) {
      throw new TwelveError('usage', `${path}: toolBindings must be an object of tool name -> implementation name, e.g. { lookup_order: 'sandbox' }`);
    }
    return { ...config, agents: withToolBindings(config.agents, bindings) };
  }
  return config;
}

/** The agents with the config's tool bindings attached (loadConfig checks and applies them). */
export function withToolBindings(agents: readonly Agent[], bindings: Record<string, string> | undefined): Agent[] {
  if (!bindings || Object.keys(bindings).length === 0) return [...agents];
  return agents.map((agent) => ({ ...agent, configToolBindings: { ...bindings } }));
}

export async function loadAgentFile(path: string): Promise<Agent[]> {
  const module = await importModule(path);
  if (isAgent(module.default)) return [module.default];
  const agents = Object.values(module).filter(isAgent);
  if (agents.length === 0) throw new TwelveError('usage', `${path} exports no agent (export default defineAgent({...}))`);
  return agents;
}
