/**
 * The attributes of Twelve's spans: GenAI semantic conventions
 * (https://opentelemetry.io/docs/specs/semconv/gen-ai/) for model and tool calls, plus Twelve's
 * own `twelve.*` (thread id, seq, cost, fallback, retries). Message content only when the user
 * opted in, and then through the redactor.
 */
import type { AgentRelease } from '../agent/release.js';
import type { Redactor } from '../config/redact.js';
import type { ModelCallSuccess } from '../model/call-model.js';
import type { SpanAttributes } from './tracer.js';

/** `openai:gpt-4o-2024-08-06` -> provider `openai`, model `gpt-4o-2024-08-06`. */
export function splitModelId(id: string): { provider: string; model: string } {
  const colon = id.indexOf(':');
  return colon < 0 ? { provider: 'unknown', model: id } : { provider: id.slice(0, colon), model: id.slice(colon + 1) };
}

export function modelRequestAttributes(release: AgentRelease, threadId: string, seq: number): SpanAttributes {
  const { provider, model } = splitModelId(release.models[0] ?? 'unknown');
  return {
    'gen_ai.operation.name': 'chat',
    'gen_ai.provider.name': provider,
    'gen_ai.request.model': model,
    'gen_ai.agent.name': release.agent.name,
    'gen_ai.agent.version': release.releaseId,
    'twelve.thread.id': threadId,
    'twelve.seq': seq,
  };
}

export function modelResponseAttributes(success: ModelCallSuccess): SpanAttributes {
  const { provider, model } = splitModelId(success.model);
  const response = success.result.response;
  return {
    // The model that answered: a fallback's provider and model when the primary failed.
    'gen_ai.provider.name': provider,
    'gen_ai.response.model': response?.modelId ?? model,
    'gen_ai.response.id': response?.id,
    'gen_ai.response.finish_reasons': [success.result.finishReason.unified],
    'gen_ai.usage.input_tokens': success.usage.inputTokens,
    'gen_ai.usage.output_tokens': success.usage.outputTokens,
    // Of input_tokens, those read from / written to the provider's prompt cache; only when nonzero. The names are
    // ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS / ..._CACHE_CREATION_... of @opentelemetry/semantic-conventions/incubating
    // (1.45), written out as the other gen_ai.* names are: the incubating entry is not a stable import.
    'gen_ai.usage.cache_read.input_tokens': success.usage.cachedInputTokens || undefined,
    'gen_ai.usage.cache_creation.input_tokens': success.usage.cacheWriteTokens || undefined,
    'twelve.cost_usd': success.costUsd ?? undefined,
    'twelve.model': success.model,
    'twelve.fallback.index': success.fallbackIndex,
    'twelve.attempt': success.attempt,
    'twelve.retries': success.failures.length,
    'twelve.latency_ms': success.latencyMs,
  };
}

/** gen_ai.input.messages / gen_ai.output.messages as JSON, redacted. */
export function modelContentAttributes(redactor: Redactor, input: unknown, output: { text: string; toolCalls: Array<{ toolName: string; toolCallId: string; input: string }> }): SpanAttributes {
  const parts: unknown[] = [];
  if (output.text) parts.push({ type: 'text', content: output.text });
  for (const call of output.toolCalls) parts.push({ type: 'tool_call', id: call.toolCallId, name: call.toolName, arguments: call.input });
  return {
    'gen_ai.input.messages': redactor.scrub(JSON.stringify(input)),
    'gen_ai.output.messages': redactor.scrub(JSON.stringify([{ role: 'assistant', parts }])),
  };
}

export function toolAttributes(release: AgentRelease, info: { threadId: string; seq: number; tool: string; callId: string; attempt: number; effect: string }): SpanAttributes {
  return {
    'gen_ai.operation.name': 'execute_tool',
    'gen_ai.tool.name': info.tool,
    'gen_ai.tool.call.id': info.callId,
    'gen_ai.tool.type': 'function',
    'gen_ai.agent.name': release.agent.name,
    'gen_ai.agent.version': release.releaseId,
    'twelve.thread.id': info.threadId,
    'twelve.seq': info.seq,
    'twelve.attempt': info.attempt,
    'twelve.tool.effect': info.effect,
  };
}
