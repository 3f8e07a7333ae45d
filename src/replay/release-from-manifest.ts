/**
 * releaseFromManifest: an AgentRelease rebuilt from a stored release manifest, so a release
 * that is no longer in the working tree can be rendered (system prompt, tools offered, output
 * schema, settings, models) by the same code as the running one. It can render and validate,
 * never run: its tools have JSON-Schema inputs turned back into zod, and no run function.
 */
import { z } from 'zod';
import type { Agent, AgentOptions, RenderContextOptions } from '../agent/define-agent.js';
import type { Tool } from '../agent/define-tool.js';
import { defaultLimits, defaultModelSettings, type AgentRelease, type ResolvedApproval, type ResolvedLimits, type ResolvedModelSettings, type ToolSpec } from '../agent/release.js';
import { TwelveError } from '../errors.js';
import type { ContextMessage } from '../thread/render-context.js';

export interface ReleaseFromManifestOptions {
  /** The stored release's id (the manifest does not hold its own id). */
  releaseId: string;
  /**
   * An agent's own renderContext: code, not in the manifest. Replay passes the candidate's
   * function so both sides of a comparison render alike (see replay-thread.ts).
   */
  renderContext?: (options: RenderContextOptions) => ContextMessage[];
}

/** What a manifest tool that cannot run does when asked to (never: replays serve recorded results). */
const cannotRun = (name: string) => () => {
  throw new TwelveError('internal', `tool ${name} comes from a stored release manifest and cannot run`);
};

export function releaseFromManifest(manifest: Record<string, unknown>, options: ReleaseFromManifestOptions): AgentRelease {
  const where = `release ${options.releaseId}`;
  const name = stringField(manifest, 'agent', where);
  const toolSpecs = toolSpecsOf(manifest.tools, where);
  const approvals = new Map<string, ResolvedApproval>(Object.entries((manifest.approvals ?? {}) as Record<string, ResolvedApproval>));
  const tools = new Map<string, Tool>();
  for (const spec of toolSpecs) {
    const approval = approvals.get(spec.name)?.policy;
    tools.set(spec.name, {
      kind: 'twelve.tool',
      name: spec.name,
      description: spec.description,
      input: schemaOf(spec.inputSchema),
      inputJsonSchema: spec.inputSchema,
      // A predicate is code: the manifest only says there was one (replay treats it as unknown).
      ...(approval === 'always' || approval === 'never' ? { approval } : {}),
      run: cannotRun(spec.name),
    } as Tool);
  }
  const outputJsonSchema = (manifest.output ?? undefined) as Record<string, unknown> | undefined;
  const models = Array.isArray(manifest.models) ? (manifest.models as string[]) : [];
  if (models.length === 0) throw new TwelveError('usage', `${where}: its manifest names no model`);
  const agentOptions = {
    name,
    purpose: String(manifest.purpose ?? ''),
    model: models[0]!,
    fallbackModels: models.slice(1),
    prompt: { text: String(manifest.prompt ?? '') },
    ...(options.renderContext ? { renderContext: options.renderContext } : {}),
  } as AgentOptions;
  const agent: Agent = {
    kind: 'twelve.agent',
    name,
    purpose: agentOptions.purpose,
    options: agentOptions,
    promptTemplate: String(manifest.prompt ?? ''),
    promptSource: `manifest of ${options.releaseId}`,
    tools,
    inputSchema: manifest.input ? schemaOf(manifest.input as Record<string, unknown>) : z.unknown(),
    outputSchema: outputJsonSchema ? schemaOf(outputJsonSchema) : undefined,
    recordingsDir: undefined,
  };
  const settings = { ...defaultModelSettings, ...(manifest.settings as Partial<ResolvedModelSettings> | undefined) } as ResolvedModelSettings;
  const limits = { ...defaultLimits, ...(manifest.limits as Partial<ResolvedLimits> | undefined) } as ResolvedLimits;
  return {
    agent,
    releaseId: options.releaseId,
    models,
    settings,
    limits,
    toolSpecs,
    outputJsonSchema,
    approvals,
    // Only the request a step sends is re-derived from a manifest; review is what happens after the answer.
    review: { policy: 'never', reviewers: [], people: [], timeoutMs: undefined, onTimeout: 'fail', ...(manifest.review as object | undefined) } as AgentRelease['review'],
    maxConcurrency: undefined,
    budgetRaiseCap: undefined,
    // A stored manifest's tools have no code of their own: the binding is recorded, never run.
    toolBindings: Object.fromEntries(Object.entries((manifest.toolBindings ?? {}) as Record<string, string>).map(([tool, implementation]) => [tool, { implementation, source: 'release' }])),
    // Operational, not in a manifest: a replayed step is compared, not sent.
    cache: 'auto',
    manifest,
  };
}

function stringField(manifest: Record<string, unknown>, field: string, where: string): string {
  const value = manifest[field];
  if (typeof value !== 'string' || !value) throw new TwelveError('usage', `${where}: its manifest has no ${field}`);
  return value;
}

function toolSpecsOf(value: unknown, where: string): ToolSpec[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new TwelveError('usage', `${where}: its manifest's tools are not a list`);
  return value.map((tool: Partial<ToolSpec>, index) => {
    if (typeof tool?.name !== 'string') throw new TwelveError('usage', `${where}: tools[${index}] has no name`);
    return { type: 'function', name: tool.name, description: String(tool.description ?? ''), inputSchema: (tool.inputSchema ?? { type: 'object' }) as Record<string, unknown> };
  });
}

/** A JSON Schema as zod, for validation; one that zod cannot read accepts anything (said in the schema's description). */
function schemaOf(json: Record<string, unknown>): z.ZodType {
  try {
    return z.fromJSONSchema(json as never) as z.ZodType;
  } catch {
    return z.unknown().describe('not checked: the stored JSON Schema could not be read back');
  }
}
