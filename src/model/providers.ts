/**
 * Resolves `provider:model-id` to an AI SDK LanguageModelV3. Provider packages load
 * lazily, so a process that never calls Anthropic never loads it (and starts faster).
 * OpenAI speaks /v1/chat/completions (`openai.chat`): the API every OpenAI-compatible
 * server implements, and the one the tests drive over real HTTP.
 */
import type { LanguageModelV3 } from '@ai-sdk/provider';
import { TwelveError } from '../errors.js';
import type { TwelveConfig } from '../config/env.js';
import { parseModelId } from './model-id.js';

export type ModelRegistry = Record<string, LanguageModelV3>;

export class ModelResolver {
  private readonly cache = new Map<string, LanguageModelV3>();

  constructor(
    private readonly providers: TwelveConfig['providers'],
    /** Instances given by the caller (scripted models, custom providers), by full id. */
    private readonly registry: ModelRegistry = {},
  ) {}

  async resolve(id: string): Promise<LanguageModelV3> {
    const given = this.registry[id];
    if (given) return given;
    const cached = this.cache.get(id);
    if (cached) return cached;
    const model = await this.create(id);
    this.cache.set(id, model);
    return model;
  }

  private async create(id: string): Promise<LanguageModelV3> {
    const { provider, modelId } = parseModelId(id);
    switch (provider) {
      case 'openai': {
        const { apiKey, baseURL } = this.providers.openai;
        if (!apiKey) throw missingKey(id, 'OPENAI_API_KEY');
        const { createOpenAI } = await import('@ai-sdk/openai');
        return createOpenAI({ apiKey, baseURL }).chat(modelId);
      }
      case 'anthropic': {
        const { apiKey, baseURL } = this.providers.anthropic;
        if (!apiKey) throw missingKey(id, 'ANTHROPIC_API_KEY');
        const { createAnthropic } = await import('@ai-sdk/anthropic');
        return createAnthropic({ apiKey, baseURL })(modelId);
      }
      case 'openai-compatible': {
        const { apiKey, baseURL } = this.providers.openaiCompatible;
        if (!baseURL) {
          throw new TwelveError('config_invalid', `model ${id}: set TWELVE_OPENAI_COMPATIBLE_BASE_URL to the server's /v1 URL (for example http://127.0.0.1:11434/v1 for Ollama)`);
        }
        const { createOpenAICompatible } = await import('@ai-sdk/openai-compatible');
        return createOpenAICompatible({ name: 'openai-compatible', baseURL, apiKey })(modelId);
      }
      case 'scripted':
        throw new TwelveError('config_invalid', `model ${id}: a scripted model must be passed to createRuntime({ models: { '${id}': scriptedModel([...]) } })`);
    }
  }
}

function missingKey(id: string, variable: string): TwelveError {
  return new TwelveError(
    'config_invalid',
    `model ${id}: ${variable} is not set. Set it to call the provider live, or run offline with TWELVE_MODEL_MODE=replay and recorded responses`,
    { details: { variable } },
  );
}
