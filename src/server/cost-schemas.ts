/** The cost report's wire shapes (GET /v1/costs); the client's types are inferred from them. */
import { z } from '@hono/zod-openapi';

const totals = {
  costUsd: z.number().openapi({ description: 'USD of the calls with a known price; calls of unknown price are not in it (see unpricedCalls)' }),
  inputTokens: z.number().int(),
  outputTokens: z.number().int(),
  cachedInputTokens: z.number().int().openapi({ description: 'Of inputTokens, those read from a provider\'s prompt cache (priced at the cached rate)' }),
  cacheWriteTokens: z.number().int().openapi({ description: 'Of inputTokens, those written to a provider\'s prompt cache (Anthropic prices them above the input rate)' }),
  calls: z.number().int().openapi({ description: 'Model calls (model_called events)' }),
  unpricedCalls: z.number().int().openapi({ description: 'Calls with no known price: their spend is unknown, never $0; price their models with TWELVE_MODEL_PRICES' }),
};

export const CostRowSchema = z
  .object({
    agent: z.string().optional(),
    model: z.string().optional(),
    day: z.string().optional().openapi({ description: 'UTC day, YYYY-MM-DD' }),
    tenant: z.string().nullable().optional().openapi({ description: 'The thread\'s tenant (TWELVE_TENANT_KEY); null: none' }),
    ...totals,
  })
  .openapi('CostRow');

export const CostReportSchema = z
  .object({
    by: z.array(z.enum(['agent', 'model', 'day', 'tenant'])),
    since: z.string().nullable(),
    until: z.string().nullable(),
    rows: z.array(CostRowSchema),
    total: z.object(totals),
  })
  .openapi('CostReport');
