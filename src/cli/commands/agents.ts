/**
 * `twelve agents ls`: the agents, their pinned models, tools and release ids (project or TWELVE_URL),
 * and under each its quality settings: review, non-LLM fallback, confidence, eval suites (local only),
 * and what in its prompt template would defeat provider prompt caching (agent/prompt-cache-lint.ts).
 */
import type { AgentQuality } from '../../agent/quality.js';
import type { AgentSuite } from '../../eval/agent-suites.js';
import type { PromptCacheWarning } from '../../agent/prompt-cache-lint.js';
import { version } from '../../version.js';
import { print, usageError, type CommandSpec, type Flags } from '../command.js';

interface Row {
  name: string;
  purpose: string;
  releaseId: string;
  models: string[];
  tools: string[];
  /** Per tool with a choice (or from an MCP server): "lookup_order=sandbox [TWELVE_TOOL_LOOKUP_ORDER] of live, fake, sandbox". */
  bindings: string[];
  quality: AgentQuality;
  /** The project's suites for the agent; absent remotely (suites live in the project). */
  evals?: AgentSuite[];
  /** Prompt caching: on or off, and what in the template defeats it (absent from a server older than it). */
  promptCache?: { cache: 'auto' | 'off'; warnings: PromptCacheWarning[] };
}

export const agents: CommandSpec = {
  name: 'agents',
  summary: 'agents, their pinned models, release ids, review, fallback, confidence and eval suites',
  usage: ['agents ls [--json]'],
  flags: {
    json: 'one agent per line (name, purpose, releaseId, models, tools, bindings (the implementation in force per tool), limits, review, fallback, confidence; evals and promptCache (on or off, and what in the prompt template defeats caching) from the project, not with TWELVE_URL)',
  },
  async run(args, flags) {
    if (args.length !== 1 || (args[0] !== 'ls' && args[0] !== 'list')) throw usageError(agents);
    const { requireAgents } = await import('../local.js');
    const found = await requireAgents(flags);
    const { loadConfig } = await import('../../config/env.js');
    const { createRelease } = await import('../../agent/release.js');
    const { qualityOf } = await import('../../agent/quality.js');
    const { implementationNames } = await import('../../agent/tool-binding.js');
    const { promptCacheWarnings } = await import('../../agent/prompt-cache-lint.js');
    const promptCacheOf = (r: (typeof releases)[number]) => ({ cache: r.cache, warnings: promptCacheWarnings(r.agent.promptTemplate) });
    const config = loadConfig(process.env, found);
    const releases = found.map((agent) => createRelease(agent, config.agents[agent.name], version));
    const suitesOf = await projectSuites(flags);
    const toolsOf = (r: (typeof releases)[number]) =>
      [...r.agent.tools.values()].filter((tool) => !tool.human).map((tool) => ({
        name: tool.name,
        binding: r.toolBindings[tool.name]?.implementation ?? 'live',
        bindingSource: r.toolBindings[tool.name]?.source ?? 'default',
        implementations: implementationNames(tool),
        mcpServer: tool.mcp?.server ?? null,
      }));
    if (flags.json) {
      for (const r of releases) process.stdout.write(`${JSON.stringify({ name: r.agent.name, purpose: r.agent.purpose, releaseId: r.releaseId, models: r.models, tools: r.toolSpecs.map((t) => t.name), bindings: toolsOf(r), limits: r.limits, ...qualityOf(r), evals: suitesOf(r.agent.name), promptCache: promptCacheOf(r) })}\n`);
      return 0;
    }
    return printAgents(
      releases.map((r) => ({
        name: r.agent.name, purpose: r.agent.purpose, releaseId: r.releaseId, models: r.models, tools: r.toolSpecs.map((t) => t.name), quality: qualityOf(r), evals: suitesOf(r.agent.name),
        promptCache: promptCacheOf(r),
        bindings: toolsOf(r)
          .filter((t) => t.implementations.length > 1 || t.mcpServer)
          .map((t) => `${t.name}=${t.binding}${t.bindingSource === 'default' ? '' : ` [${t.bindingSource}]`}${t.mcpServer ? ` (MCP server ${t.mcpServer})` : ` of ${t.implementations.join(', ')}`}`),
      })),
      flags,
    );
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
      return printAgents(
        found.map((a) => ({
          ...a,
          tools: a.tools.map((t) => t.name),
          bindings: a.tools.filter((t) => t.binding !== 'live' || t.mcpServer).map((t) => `${t.name}=${t.binding}${t.mcpServer ? ` (MCP server ${t.mcpServer})` : ''}`),
          quality: { review: a.review, fallback: a.fallback, confidence: a.confidence },
          // Absent from a server older than prompt caching.
          ...(a.promptCache ? { promptCache: a.promptCache } : {}),
        })),
        flags,
      );
    });
  },
};

/** The suites per agent of the project's config (defineEval entries and evals/<agent>.jsonl). */
async function projectSuites(flags: Flags): Promise<(agent: string) => AgentSuite[]> {
  const { dirname, resolve } = await import('node:path');
  const { projectConfigPath } = await import('../local.js');
  const { loadProjectConfig } = await import('../../config/project.js');
  const { agentSuites } = await import('../../eval/agent-suites.js');
  const configPath = await projectConfigPath(flags);
  // Loaded already by requireAgents: the import is cached, this only reads its evals.
  const suites = configPath ? ((await loadProjectConfig(configPath)).evals ?? []) : [];
  const projectDir = configPath ? dirname(resolve(configPath)) : undefined;
  return (agent) => agentSuites({ agent, projectDir, suites });
}

async function printAgents(rows: Row[], _flags: Flags): Promise<number> {
  const { table } = await import('../format.js');
  const { qualityLine } = await import('../quality-text.js');
  const lines = [['AGENT', 'MODEL', 'FALLBACKS', 'TOOLS', 'RELEASE', 'PURPOSE']];
  for (const r of rows) lines.push([r.name, r.models[0] ?? '-', r.models.slice(1).join(',') || '-', r.tools.join(',') || '-', r.releaseId, r.purpose]);
  // The table's columns, then under each agent its quality settings (too wide for columns of their own).
  const [header, ...body] = table(lines).split('\n');
  return print(
    [
      header,
      ...body.flatMap((line, index) => {
        const row = rows[index]!;
        return [
          line,
          `  ${qualityLine(row.quality, row.evals)}`,
          ...(row.bindings.length > 0 ? [`  bindings: ${row.bindings.join('; ')}`] : []),
          ...promptCacheLines(row.promptCache),
        ];
      }),
    ].join('\n'),
  );
}

/** Nothing when caching is on and the template is fine; else one line per point (a warning names the placeholder). */
function promptCacheLines(promptCache: Row['promptCache']): string[] {
  if (!promptCache) return [];
  return [
    ...(promptCache.cache === 'off' ? ['  prompt cache: off (no Anthropic cache breakpoints, no OpenAI cache key)'] : []),
    ...promptCache.warnings.map((warning) => `  warning: prompt cache: ${warning.message}`),
  ];
}
