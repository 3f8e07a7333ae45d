/** Schemas of what the model saw (GET /v1/threads/{id}/requests, .../steps/{seq}/request, .../blobs/{hash}). */
import { z } from '@hono/zod-openapi';

export const StepRequest = z
  .object({
    step: z.number().int(),
    seq: z.number().int(),
    releaseId: z.string(),
    model: z.string(),
    source: z.enum(['stored', 're-derived', 'unavailable']).openapi({ description: 'stored: exactly what was sent; re-derived: rebuilt from the log (events recorded before requests were kept); unavailable: see note' }),
    request: z.record(z.string(), z.unknown()).optional().openapi({ description: 'The AI SDK call options: prompt, tools, toolChoice, responseFormat, settings' }),
    ref: z.string().optional(),
    bytes: z.number().int().optional(),
    note: z.string().optional(),
    response: z.record(z.string(), z.unknown()),
  })
  .openapi('StepRequest');

export const StepRequestList = z.object({ steps: z.array(StepRequest) }).openapi('StepRequestList');

export const Blob = z.object({ hash: z.string(), bytes: z.number().int(), data: z.unknown() }).openapi('Blob');
