/**
 * Tools bound by configuration: a tool's implementations are `live` (its run), `fake` (when it
 * has one) and any it declares in `implementations`. Which one runs is chosen per environment,
 * TWELVE_TOOL_<NAME>=<implementation> first, then the project config's `toolBindings`; the
 * default is live. A binding other than live is part of the release (its manifest and lock), so
 * a tool nobody binds keeps the release id it had before bindings existed.
 */
import type { Tool, ToolContext } from './define-tool.js';

/** One tool's binding in force, and what set it: "TWELVE_TOOL_LOOKUP_ORDER" or "config". */
export interface ToolBinding {
  implementation: string;
  source: string;
}

/** The implementations a tool can be bound to, live first. */
export function implementationNames(tool: Tool): string[] {
  return ['live', ...(tool.fake ? ['fake'] : []), ...Object.keys(tool.implementations ?? {})];
}

type Run = (input: unknown, ctx: ToolContext) => unknown;

/**
 * The function a call of `tool` runs under `implementation` (validated at start by loadConfig).
 * A tool whose binding is fixed (an eval's) always runs its own run.
 */
export function boundRun(tool: Tool, implementation: string | undefined): Run {
  if (!implementation || implementation === 'live' || tool.bindingFixed) return tool.run as Run;
  const fn = implementation === 'fake' ? tool.fake : tool.implementations?.[implementation];
  if (!fn) throw new Error(`${tool.name} has no implementation "${implementation}" (it has ${implementationNames(tool).join(', ')})`);
  return fn as Run;
}
