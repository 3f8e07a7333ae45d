/**
 * Resolves `provider:model-id` to an AI SDK LanguageModelV3. Provider packages load
 * lazily, so a process that never calls Anthropic never loads it (and starts faster).
 * OpenAI speaks /v1/chat/completions (`openai.chat`): the API every OpenAI-compatible
 * server implements, and the one the tests drive over real HTTP.
 */
import type { LanguageModelV3 } from '@ai-sdk/provider';
import { TwelveError } from '../errors.js';
import type { TwelveConfig } from '../config/env.js';
import { parseModelId, type ProviderName } from './model-id.js';

/** The AI SDK package each provider loads (twelve.lock.json records its version); scripted models are built in. */
export const providerPackages: Readonly<Record<ProviderName, string | undefined>> = {
  openai: '@ai-sdk/openai',
  anthropic: '@ai-sdk/anthropic',
  'openai-compatible': '@ai-sdk/openai-compatible',
  scripted: undefined,
};

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

  /**
   * Why `id` cannot be called with this configuration (no key, no base URL, a scripted model
   * nobody registered), or undefined when it can. No I/O: what the preflight of `twelve run`
   * checks, and what resolve() refuses with.
   */
  problem(id: string): TwelveError | undefined {
    if (this.registry[id]) return undefined;
    const { provider } = parseModelId(id);
    switch (provider) {
      case 'openai':
        return this.providers.openai.apiKey ? undefined : missingKey(id, 'OPENAI_API_KEY');
      case 'anthropic':
        return this.providers.anthropic.apiKey ? undefined : missingKey(id, 'ANTHROPIC_API_KEY');
      case 'openai-compatible':
        if (this.providers.openaiCompatible.baseURL) return undefined;
        return new TwelveError(
          'config_invalid',
          `model ${id}: set TWELVE_OPENAI_COMPATIBLE_BASE_URL to the server's /v1 URL (for example http://127.0.0.1:11434/v1 for Ollama)`,
          { details: { model: id, variable: 'TWELVE_OPENAI_COMPATIBLE_BASE_URL' } },
        );
      case 'scripted':
        return new TwelveError('config_invalid', `model ${id}: a scripted model must be passed to createRuntime({ models: { '${id}': scriptedModel([...]) } })`, {
          details: { model: id },
        });
    }
  }

  private async create(id: string): Promise<LanguageModelV3> {
    const problem = this.problem(id);
    if (problem) throw problem;
    const { provider, modelId } = parseModelId(id);
    switch (provider) {
      case 'openai': {
        const { apiKey, baseURL } = this.providers.openai;
        const { createOpenAI } = await import('@ai-sdk/openai');
        return createOpenAI({ apiKey, baseURL }).chat(modelId);
      }
      case 'anthropic': {
        const { apiKey, baseURL } = this.providers.anthropic;
        const { createAnthropic } = await import('@ai-sdk/anthropic');
        return createAnthropic({ apiKey, baseURL })(modelId);
      }
      case 'openai-compatible': {
        const { apiKey, baseURL } = this.providers.openaiCompatible;
        const { createOpenAICompatible } = await import('@ai-sdk/openai-compatible');
        // includeUsage: a streamed call (agent stream: true) reports its tokens too (stream_options.include_usage).
        return createOpenAICompatible({ name: 'openai-compatible', baseURL: baseURL!, apiKey, includeUsage: true })(modelId);
      }
      case 'scripted':
        throw new TwelveError('internal', `model ${id}: unreachable (problem() refuses unregistered scripted models)`);
    }
  }
}

/** The variables that configure a provider: what a refused credential or a wrong URL points at. */
export function providerVariables(id: string): string {
  const colon = id.indexOf(':');
  switch (id.slice(0, colon)) {
    case 'openai':
      return 'OPENAI_API_KEY / OPENAI_BASE_URL';
    case 'anthropic':
      return 'ANTHROPIC_API_KEY / ANTHROPIC_BASE_URL';
    case 'openai-compatible':
      return 'TWELVE_OPENAI_COMPATIBLE_BASE_URL / TWELVE_OPENAI_COMPATIBLE_API_KEY';
    default:
      return 'the provider configuration';
  }
}

function missingKey(id: string, variable: string): TwelveError {
  return new TwelveError(
    'config_invalid',
    `model ${id}: ${variable} is not set. Set it to call the provider live, or run offline with TWELVE_MODEL_MODE=replay and recorded responses`,
    { details: { model: id, variable } },
  );
}
