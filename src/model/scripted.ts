/**
 * The `scripted` provider: an in-process LanguageModelV3 whose answers are given up
 * front (a list) or computed from the request (a function). For tests, demos and
 * benchmarks; use it as `scripted:<name>` and pass the instance to createRuntime. Streamed
 * (an agent with `stream: true`), a reply arrives as one text delta, then its tool calls.
 */
import type { LanguageModelV3, LanguageModelV3CallOptions, LanguageModelV3Content, LanguageModelV3GenerateResult, LanguageModelV3StreamPart } from '@ai-sdk/provider';

/**
 * A reply's tokens. `inputTokens` is every input token; of them, `cachedInputTokens` were read from
 * the (pretend) prompt cache and `cacheWriteTokens` written to it, so tests without HTTP can
 * produce cached calls.
 */
export interface ScriptedUsage {
  inputTokens: number;
  outputTokens: number;
  cachedInputTokens?: number;
  cacheWriteTokens?: number;
}

export type ScriptedReply =
  | { text: string; usage?: ScriptedUsage }
  | {
      toolCalls: Array<{ tool: string; args: unknown; callId?: string }>;
      text?: string;
      usage?: ScriptedUsage;
    }
  | { error: Error };

export type Script = ScriptedReply[] | ((request: LanguageModelV3CallOptions, callIndex: number) => ScriptedReply | Promise<ScriptedReply>);

export interface ScriptedModel extends LanguageModelV3 {
  /** Requests received, in order. */
  readonly calls: LanguageModelV3CallOptions[];
}

export function scriptedModel(script: Script, options: { modelId?: string; recordCalls?: boolean } = {}): ScriptedModel {
  const calls: LanguageModelV3CallOptions[] = [];
  let index = 0;
  let callCounter = 0;
  const recordCalls = options.recordCalls ?? true;
  return {
    specificationVersion: 'v3',
    provider: 'scripted',
    modelId: options.modelId ?? 'scripted',
    supportedUrls: {},
    calls,
    async doGenerate(request) {
      return generate(request);
    },
    async doStream(request) {
      const result = await generate(request);
      const parts: LanguageModelV3StreamPart[] = [{ type: 'stream-start', warnings: [] }];
      for (const [index, part] of result.content.entries()) {
        if (part.type === 'text') parts.push({ type: 'text-start', id: `t${index}` }, { type: 'text-delta', id: `t${index}`, delta: part.text }, { type: 'text-end', id: `t${index}` });
        else if (part.type === 'tool-call') parts.push(part);
      }
      parts.push({ type: 'finish', finishReason: result.finishReason, usage: result.usage });
      return {
        stream: new ReadableStream<LanguageModelV3StreamPart>({
          start(controller) {
            for (const part of parts) controller.enqueue(part);
            controller.close();
          },
        }),
      };
    },
  };

  async function generate(request: LanguageModelV3CallOptions): Promise<LanguageModelV3GenerateResult> {
    if (recordCalls) calls.push(request);
    const callIndex = index++;
    let reply: ScriptedReply | undefined;
    if (typeof script === 'function') reply = await script(request, callIndex);
    else reply = script[callIndex];
    if (!reply) throw new Error(`scripted model: the script has ${Array.isArray(script) ? script.length : '?'} replies; call ${callIndex + 1} has none`);
    if ('error' in reply) throw reply.error;
    const content: LanguageModelV3Content[] = [];
    if ('text' in reply && reply.text) content.push({ type: 'text', text: reply.text });
    const toolCalls = 'toolCalls' in reply ? reply.toolCalls : [];
    for (const call of toolCalls) {
      content.push({
        type: 'tool-call',
        toolCallId: call.callId ?? `call_${++callCounter}`,
        toolName: call.tool,
        input: typeof call.args === 'string' ? call.args : JSON.stringify(call.args),
      });
    }
    const usage = reply.usage ?? { inputTokens: 10, outputTokens: 5 };
    return {
      content,
      finishReason: { unified: toolCalls.length > 0 ? 'tool-calls' : 'stop', raw: undefined },
      usage: { inputTokens: inputTokensOf(usage), outputTokens: { total: usage.outputTokens, text: undefined, reasoning: undefined } },
      warnings: [],
    };
  }
}

/** The AI SDK's input-token breakdown, as a provider adapter reports it: `total` includes the cache reads and writes, `noCache` is the rest. */
function inputTokensOf(usage: ScriptedUsage): LanguageModelV3GenerateResult['usage']['inputTokens'] {
  const cacheRead = usage.cachedInputTokens;
  const cacheWrite = usage.cacheWriteTokens;
  if (cacheRead === undefined && cacheWrite === undefined) return { total: usage.inputTokens, noCache: undefined, cacheRead: undefined, cacheWrite: undefined };
  const noCache = usage.inputTokens - (cacheRead ?? 0) - (cacheWrite ?? 0);
  // inputTokens counts the cached ones too: a script that gives more cached than input tokens is a mistake in the test.
  if (noCache < 0) throw new Error(`scripted model: inputTokens (${usage.inputTokens}) counts every input token, so it cannot be less than cachedInputTokens + cacheWriteTokens`);
  return { total: usage.inputTokens, noCache, cacheRead, cacheWrite };
}
