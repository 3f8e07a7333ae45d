/**
 * Model ids are `provider:model-id`. Production agents pin dated snapshots: a floating
 * alias (`gpt-4o`, `claude-sonnet-4-5`, `*-latest`) silently changes behaviour the day
 * the vendor moves it, so it is refused unless the agent opts in.
 */
import { TwelveError } from '../errors.js';

export const providers = ['openai', 'anthropic', 'openai-compatible', 'scripted'] as const;
export type ProviderName = (typeof providers)[number];

export interface ModelId {
  provider: ProviderName;
  modelId: string;
  /** The full `provider:model-id` string. */
  id: string;
}

export function parseModelId(id: string, where = 'model'): ModelId {
  const colon = id.indexOf(':');
  if (colon <= 0 || colon === id.length - 1) {
    throw new TwelveError('model_id_invalid', `${where}: "${id}" is not of the form provider:model-id (providers: ${providers.join(', ')})`, {
      details: { id },
    });
  }
  const provider = id.slice(0, colon);
  if (!(providers as readonly string[]).includes(provider)) {
    throw new TwelveError('model_id_invalid', `${where}: unknown provider "${provider}" in "${id}" (known: ${providers.join(', ')})`, {
      details: { id, provider },
    });
  }
  return { provider: provider as ProviderName, modelId: id.slice(colon + 1), id };
}

// A dated snapshot: gpt-4o-2024-08-06, claude-sonnet-4-5-20250929, gpt-3.5-turbo-0125, gpt-4-0613.
const datedOpenAI = /-(\d{4}-\d{2}-\d{2}|\d{4})$/;
const datedAnthropic = /-\d{8}$/;
const latest = /(^|[-:/])latest$/i;

/** Why a model id floats, or undefined when it is pinned. */
export function floatingReason(model: ModelId): string | undefined {
  if (latest.test(model.modelId)) return 'it names "latest"';
  if (model.provider === 'openai' && !datedOpenAI.test(model.modelId)) return 'OpenAI ids must end in a dated snapshot such as -2024-08-06';
  if (model.provider === 'anthropic' && !datedAnthropic.test(model.modelId)) return 'Anthropic ids must end in a dated snapshot such as -20250929';
  return undefined;
}

export function assertPinned(model: ModelId, where: string): void {
  const reason = floatingReason(model);
  if (reason) {
    throw new TwelveError(
      'model_floating_alias',
      `${where}: "${model.id}" is a floating alias (${reason}); pin a dated version, or set allowFloatingModel: true in the agent`,
      { details: { id: model.id } },
    );
  }
}
