/**
 * Tools in an eval: a case's thread never acts on the world. Each call of the agent's tools is
 * served, in order, by the case's fixtures (tool name and a JSON subset of the arguments; a
 * fixture with `error` fails the call), then the tool's `fake`, then the tool itself when it is
 * pure. Anything else fails the call and marks the case as an error: a side-effect tool without a
 * fixture is a hole in the suite, not something to run for real.
 */
import type { Agent } from '../agent/define-agent.js';
import type { Tool, ToolContext } from '../agent/define-tool.js';
import { jsonSubset } from './json-match.js';
import type { EvalCase } from './types.js';

/** What one case's thread may use (keyed by thread id in a CaseBindings). */
interface Binding {
  evalCase: EvalCase;
  /** Called once per unbound call: the case is then reported as an error and stopped. */
  unbound(message: string): void;
}

/** The cases running on an eval runtime, by their threads. */
export class CaseBindings {
  private readonly byThread = new Map<string, Binding>();

  add(threadId: string, binding: Binding): void {
    this.byThread.set(threadId, binding);
  }

  remove(threadId: string): void {
    this.byThread.delete(threadId);
  }

  get(threadId: string): Binding | undefined {
    return this.byThread.get(threadId);
  }
}

export interface BindToolsOptions {
  bindings: CaseBindings;
  /**
   * Tools with code to fall back on (their fake, or running them when pure). A candidate rebuilt
   * from a stored manifest has none of its own: the working tree's tools of the same names lend
   * their fakes only (their code may differ from the release's).
   */
  code: 'own' | { fakesFrom: ReadonlyMap<string, Tool>; releaseId: string };
}

/** A copy of the agent whose tools are served as the module header says (the release id is unchanged: run is not part of it). */
export function bindTools(agent: Agent, options: BindToolsOptions): Agent {
  const tools = new Map<string, Tool>();
  for (const [name, tool] of agent.tools) tools.set(name, tool.human ? tool : boundTool(tool, options));
  return { ...agent, tools };
}

function boundTool(tool: Tool, { bindings, code }: BindToolsOptions): Tool {
  const own = code === 'own';
  const fake = own ? tool.fake : code.fakesFrom.get(tool.name)?.fake;
  const run = async (input: unknown, ctx: ToolContext) => {
    const binding = bindings.get(ctx.threadId);
    if (!binding) throw new Error(`${tool.name}: called outside an eval case (thread ${ctx.threadId})`);
    const { evalCase } = binding;
    const fixture = evalCase.fixtures?.tools?.find((f) => f.tool === tool.name && (f.args === undefined || jsonSubset(input, f.args)));
    if (fixture) {
      if (fixture.error !== undefined) throw new Error(fixture.error);
      return fixture.result;
    }
    if (fake) return fake(input as never, ctx);
    if (own && tool.effect === 'pure') return tool.run(input as never, ctx);
    const message = own
      ? `no fixture for ${tool.name} in case ${evalCase.id} and the tool is not pure (effect ${tool.effect ?? 'external'}) and has no fake: an eval never runs it for real; add a fixture {"tool":"${tool.name}","args":{...},"result":...}`
      : `no fixture for ${tool.name} in case ${evalCase.id}, and release ${code.releaseId} is a stored manifest with no code to run it: its tools come only from fixtures and fakes`;
    binding.unbound(message);
    throw new Error(message);
  };
  // bindingFixed: the environment's binding (TWELVE_TOOL_<NAME>) never replaces the case's fixtures and fakes.
  return { ...tool, run: run as Tool['run'], fake: undefined, bindingFixed: true };
}
