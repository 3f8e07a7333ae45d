/**
 * A streamed model call (the provider's doStream) folded into the same result as doGenerate:
 * text parts, tool calls, finish reason and usage. Text deltas go to `onText` as they arrive;
 * everything else is only known, and only used, at the end. Nothing here is stored per token.
 */
import type { LanguageModelV3Content, LanguageModelV3GenerateResult, LanguageModelV3StreamPart, LanguageModelV3Usage } from '@ai-sdk/provider';

const noUsage: LanguageModelV3Usage = {
  inputTokens: { total: undefined, noCache: undefined, cacheRead: undefined, cacheWrite: undefined },
  outputTokens: { total: undefined, text: undefined, reasoning: undefined },
};

export async function collectStream(stream: ReadableStream<LanguageModelV3StreamPart>, onText: (text: string) => void): Promise<LanguageModelV3GenerateResult> {
  const content: LanguageModelV3Content[] = [];
  const texts = new Map<string, { type: 'text'; text: string }>();
  const reasonings = new Map<string, { type: 'reasoning'; text: string }>();
  let finish: Extract<LanguageModelV3StreamPart, { type: 'finish' }> | undefined;
  const warnings: LanguageModelV3GenerateResult['warnings'] = [];
  const reader = stream.getReader();
  try {
    for (;;) {
      const { value: part, done } = await reader.read();
      if (done) break;
      switch (part.type) {
        case 'stream-start':
          warnings.push(...part.warnings);
          break;
        case 'text-start':
        case 'text-delta': {
          let text = texts.get(part.id);
          if (!text) {
            text = { type: 'text', text: '' };
            texts.set(part.id, text);
            content.push(text);
          }
          if (part.type === 'text-delta' && part.delta) {
            text.text += part.delta;
            onText(part.delta);
          }
          break;
        }
        case 'reasoning-start':
        case 'reasoning-delta': {
          let reasoning = reasonings.get(part.id);
          if (!reasoning) {
            reasoning = { type: 'reasoning', text: '' };
            reasonings.set(part.id, reasoning);
            content.push(reasoning);
          }
          if (part.type === 'reasoning-delta') reasoning.text += part.delta;
          break;
        }
        case 'tool-call':
        case 'tool-result':
        case 'file':
        case 'source':
          content.push(part as LanguageModelV3Content);
          break;
        case 'finish':
          finish = part;
          break;
        case 'error':
          throw part.error;
        default:
          // text-end, tool-input-* (the tool-call part carries the whole input), metadata, raw.
          break;
      }
    }
  } finally {
    reader.releaseLock();
  }
  // Empty text parts (a text-start with no delta) are not content doGenerate would return.
  const kept = content.filter((part) => !(part.type === 'text' && part.text === ''));
  return {
    content: kept,
    finishReason: finish?.finishReason ?? { unified: 'other', raw: undefined },
    usage: finish?.usage ?? noUsage,
    warnings,
  };
}
