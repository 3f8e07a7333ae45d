/**
 * `twelve mcp`: the project's agents as MCP tools (see server-tools.ts for what each tool is).
 * One Server per connection (stdio) or per request (Streamable HTTP, stateless), over one
 * runtime. Calling an agent's tool launches a thread the usual way (the runtime validates the
 * input, the store keeps the log) and follows it through the store, sending progress
 * notifications when the client gave a progressToken; workers run it (in this process or
 * elsewhere). Whatever goes wrong is a tool error (isError) with a clear message, never a crash.
 */
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { CallToolRequestSchema, ListToolsRequestSchema, type CallToolResult, type ServerNotification } from '@modelcontextprotocol/sdk/types.js';
import { TwelveError, errorMessage } from '../errors.js';
import type { Runtime } from '../runtime/runtime.js';
import { allows, type Principal } from '../server/auth.js';
import { pendingOf } from '../server/present.js';
import type { ThreadRecord } from '../store/types.js';
import { foldEvents, isTerminal, waitingStatuses } from '../thread/state.js';
import { version } from '../version.js';
import { ProgressText } from './server-progress.js';
import { mcpTools, statusArguments, statusToolName, type McpToolSpec } from './server-tools.js';
import { watchThread } from './server-watch.js';

export interface McpServerOptions {
  runtime: Runtime;
  /** Who calls: an API key's owner over HTTP; the local user (every role) over stdio. */
  caller: Principal;
  /** How long an agent's tool waits for its thread before answering with its id and status. Default 50 s (under the 60 s many clients allow a request). */
  waitMs?: number;
  /** Refuse a launch whose models cannot be called here (this process runs the threads). */
  checkModels?: boolean;
  /** Recorded in each thread's launch metadata (launchedVia). */
  transport: 'stdio' | 'http';
}

export const defaultWaitMs = 50_000;

/** Over HTTP a Server is made per request: the tools (JSON Schemas of every agent) are made once per runtime. */
const toolCache = new WeakMap<Runtime, Map<number, Map<string, McpToolSpec>>>();

function toolsOf(runtime: Runtime, waitSeconds: number): Map<string, McpToolSpec> {
  let byWait = toolCache.get(runtime);
  if (!byWait) toolCache.set(runtime, (byWait = new Map()));
  let tools = byWait.get(waitSeconds);
  if (!tools) byWait.set(waitSeconds, (tools = mcpTools(runtime.agents, waitSeconds)));
  return tools;
}

type Extra = { signal: AbortSignal; _meta?: { progressToken?: string | number }; sendNotification: (notification: ServerNotification) => Promise<void> };

export function createMcpServer(options: McpServerOptions): Server {
  const { runtime } = options;
  const waitMs = options.waitMs ?? defaultWaitMs;
  const tools = toolsOf(runtime, Math.round(waitMs / 1000));
  const server = new Server(
    { name: 'twelve', version },
    {
      capabilities: { tools: {} },
      instructions:
        `Each tool named after an agent runs that agent as a durable thread and returns its output. A thread that waits for a person, or runs longer than the wait, ` +
        `comes back as { threadId, status }: poll it with ${statusToolName}.`,
    },
  );
  server.setRequestHandler(ListToolsRequestSchema, () => ({
    tools: [...tools.values()].map(({ target: _target, ...tool }) => tool),
  }));
  server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
    const tool = tools.get(request.params.name);
    if (!tool) return toolError(`no tool "${request.params.name}" (tools: ${[...tools.keys()].join(', ')})`);
    try {
      return await callTool(options, waitMs, tool, request.params.arguments ?? {}, extra as Extra);
    } catch (error) {
      return toolError(TwelveError.is(error) ? error.message : `internal error: ${errorMessage(error)}`);
    }
  });
  return server;
}

async function callTool(options: McpServerOptions, waitMs: number, tool: McpToolSpec, args: Record<string, unknown>, extra: Extra): Promise<CallToolResult> {
  const { runtime, caller } = options;
  const { target } = tool;
  if (target.kind === 'status') {
    if (!allows(caller, 'reader')) return toolError(`${caller.name} lacks the reader role needed to read threads`);
    const parsed = statusArguments.safeParse(args);
    if (!parsed.success) return toolError(`invalid arguments for ${statusToolName}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(arguments)'}: ${i.message}`).join('; ')}`);
    const { threadId, waitSeconds = 0 } = parsed.data;
    const thread = await runtime.getThreadOrThrow(threadId);
    const waited = waitSeconds > 0 ? await follow(runtime, thread, Math.min(waitSeconds * 1000, waitMs), extra) : thread;
    return answer(runtime, waited);
  }
  if (!allows(caller, 'operator')) return toolError(`${caller.name} lacks the operator role needed to launch threads`);
  const agent = target.release.agent.name;
  const input = target.wrapsInput ? args.input : args;
  let thread: ThreadRecord;
  try {
    thread = await runtime.launch({ agent, input, metadata: { launchedBy: caller.name, launchedVia: `mcp:${options.transport}` }, ...(options.checkModels ? { checkModels: true } : {}) });
  } catch (error) {
    if (TwelveError.is(error, 'input_invalid')) return toolError(`invalid arguments for ${tool.name}: ${error.message.replace(/^input for agent \S+ is invalid: /, '')}`);
    throw error;
  }
  if (target.kind === 'launch') return answer(runtime, thread);
  return answer(runtime, await follow(runtime, thread, waitMs, extra));
}

/** Follows the thread until it stops moving or `waitMs` passes, sending a progress notification per event. */
async function follow(runtime: Runtime, thread: ThreadRecord, waitMs: number, extra: Extra): Promise<ThreadRecord> {
  const token = extra._meta?.progressToken;
  const text = new ProgressText();
  let sent: Promise<void> | undefined;
  const followed = await watchThread({
    runtime,
    threadId: thread.id,
    deadline: Date.now() + waitMs,
    signal: extra.signal,
    onEvent: (e) => {
      const message = text.describe(e);
      if (token === undefined || message === undefined) return;
      // In order; the seq only grows, as MCP requires of progress. Scrubbed as the API's views are
      // (a failed tool's message may quote a secret). A client gone away is not this call's failure.
      const notification = { method: 'notifications/progress' as const, params: { progressToken: token, progress: e.seq, message: runtime.viewRedactor.scrubText(message) } };
      sent = (sent ?? Promise.resolve()).then(() => extra.sendNotification(notification)).catch(() => undefined);
    },
  });
  if (sent) {
    // The SDK's Client handles a notification a microtask later than a response read in the same
    // chunk, and drops progress that comes after its response: let the last notifications go first.
    await sent;
    await new Promise((resolve) => setImmediate(resolve));
  }
  return followed;
}

/** The envelope for a thread as it is now, scrubbed as the API's views are. */
async function answer(runtime: Runtime, thread: ThreadRecord): Promise<CallToolResult> {
  return runtime.viewRedactor.scrub(await envelopeOf(runtime, thread)) as CallToolResult;
}

/** Its output once completed, an error once failed, else its id and status to poll. */
async function envelopeOf(runtime: Runtime, thread: ThreadRecord): Promise<CallToolResult> {
  const envelope: Record<string, unknown> = { threadId: thread.id, agent: thread.agent, status: thread.status };
  if (thread.status === 'completed') {
    envelope.output = thread.output;
    return { content: [{ type: 'text', text: typeof thread.output === 'string' ? thread.output : JSON.stringify(thread.output) }], structuredContent: envelope };
  }
  if (thread.waitingReason) envelope.waitingReason = thread.waitingReason;
  if (thread.error) envelope.error = thread.error;
  if (isTerminal(thread.status)) {
    const why = thread.error ? `: ${thread.error.message}` : thread.waitingReason ? ` (${thread.waitingReason})` : '';
    return { content: [{ type: 'text', text: `thread ${thread.id} (${thread.agent}) ${thread.status}${why}` }], structuredContent: envelope, isError: true };
  }
  if (waitingStatuses.includes(thread.status)) envelope.pending = pendingOf(foldEvents(thread.id, await runtime.loadEvents(thread.id)));
  const state = thread.status === 'runnable' ? 'is still running' : waitingStatuses.includes(thread.status) ? `waits for a person: ${thread.waitingReason}` : `is ${thread.status}${thread.waitingReason ? ` (${thread.waitingReason})` : ''}`;
  return {
    content: [{ type: 'text', text: `thread ${thread.id} (${thread.agent}) ${state}. Poll it with ${statusToolName} {"threadId": "${thread.id}"}.` }],
    structuredContent: envelope,
  };
}

function toolError(message: string): CallToolResult {
  return { content: [{ type: 'text', text: message }], isError: true };
}
