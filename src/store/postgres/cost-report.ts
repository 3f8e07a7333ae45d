/**
 * Store.costReport on PostgreSQL: one aggregate over the model_called events joined to their
 * threads (agent, tenant), plus cost_rollup (the calls of pruned threads, folded when twelve
 * prune deleted them), grouped by up to two dimensions. An unpriced call (costUsd null) is
 * counted in unpricedCalls and adds nothing to costUsd: its spend is unknown, never $0.
 * A fork's copies of its origin's events (before its thread_forked) are left out, and a rollup
 * row counts whole when its day overlaps --since/--until: see SQLite's.
 * The group expressions come from the fixed map below, never from the caller's text.
 */
import type { CostDimension, CostReportOptions, CostRow } from '../../costs/types.js';

const groupExpression: Record<CostDimension, string> = {
  agent: 'c.agent',
  model: `nullif(c.model, '')`,
  day: 'c.day',
  tenant: `nullif(c.tenant, '')`,
};

/** Each model call of the threads `threads` (a condition on e.thread_id / thread_id) in cost_rollup's columns, with its time. */
export function modelCallsSql(threads: string): string {
  return `SELECT to_char(e.at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day, t.agent AS agent, coalesce(e.data ->> 'model', '') AS model, coalesce(t.tenant, '') AS tenant,
      e.at AS at, e.at AS day_end,
      coalesce((e.data ->> 'costUsd')::float8, 0) AS cost_usd,
      coalesce((e.data -> 'usage' ->> 'inputTokens')::bigint, 0) AS input_tokens,
      coalesce((e.data -> 'usage' ->> 'outputTokens')::bigint, 0) AS output_tokens,
      1::bigint AS calls,
      (CASE WHEN e.data ->> 'costUsd' IS NULL THEN 1 ELSE 0 END)::bigint AS unpriced_calls,
      coalesce((e.data -> 'usage' ->> 'cachedInputTokens')::bigint, 0) AS cached_input_tokens,
      coalesce((e.data -> 'usage' ->> 'cacheWriteTokens')::bigint, 0) AS cache_write_tokens
    FROM events e JOIN threads t ON t.id = e.thread_id
      LEFT JOIN (SELECT thread_id, min(seq) AS seq FROM events WHERE type = 'thread_forked' AND ${threads.replaceAll('e.thread_id', 'thread_id')} GROUP BY thread_id) f ON f.thread_id = e.thread_id
    WHERE e.type = 'model_called' AND (f.seq IS NULL OR e.seq > f.seq) AND ${threads}`;
}

/** Folds the model calls of threads $1 (text[]) into cost_rollup (prune, before it deletes them). */
export const rollupSql = `
  INSERT INTO cost_rollup (day, agent, model, tenant, cost_usd, input_tokens, output_tokens, calls, unpriced_calls, cached_input_tokens, cache_write_tokens)
  SELECT day, agent, model, tenant, sum(cost_usd), sum(input_tokens), sum(output_tokens), sum(calls), sum(unpriced_calls), sum(cached_input_tokens), sum(cache_write_tokens)
    FROM (${modelCallsSql('e.thread_id = ANY ($1::text[])')}) calls
    GROUP BY day, agent, model, tenant
  ON CONFLICT (day, agent, model, tenant) DO UPDATE SET cost_usd = cost_rollup.cost_usd + EXCLUDED.cost_usd,
    input_tokens = cost_rollup.input_tokens + EXCLUDED.input_tokens, output_tokens = cost_rollup.output_tokens + EXCLUDED.output_tokens,
    calls = cost_rollup.calls + EXCLUDED.calls, unpriced_calls = cost_rollup.unpriced_calls + EXCLUDED.unpriced_calls,
    cached_input_tokens = cost_rollup.cached_input_tokens + EXCLUDED.cached_input_tokens, cache_write_tokens = cost_rollup.cache_write_tokens + EXCLUDED.cache_write_tokens`;

export function postgresCostReport(options: CostReportOptions): { text: string; values: unknown[] } {
  const groups = options.by.map((dimension) => `${groupExpression[dimension]} AS "${dimension}"`);
  const positions = options.by.map((_, index) => index + 1).join(', ');
  // A rollup row spans its UTC day: [day, day + 1 day).
  const text = `SELECT ${groups.join(', ')},
      coalesce(sum(c.cost_usd), 0) AS "costUsd",
      coalesce(sum(c.input_tokens), 0) AS "inputTokens",
      coalesce(sum(c.output_tokens), 0) AS "outputTokens",
      coalesce(sum(c.calls), 0) AS "calls",
      coalesce(sum(c.unpriced_calls), 0) AS "unpricedCalls",
      coalesce(sum(c.cached_input_tokens), 0) AS "cachedInputTokens",
      coalesce(sum(c.cache_write_tokens), 0) AS "cacheWriteTokens"
    FROM (${modelCallsSql('true')}
      UNION ALL SELECT day, agent, model, tenant, (day || 'T00:00:00Z')::timestamptz, (day || 'T00:00:00Z')::timestamptz + interval '1 day' - interval '1 microsecond',
        cost_usd, input_tokens, output_tokens, calls, unpriced_calls, cached_input_tokens, cache_write_tokens FROM cost_rollup) c
    WHERE ($1::timestamptz IS NULL OR c.day_end >= $1::timestamptz) AND ($2::timestamptz IS NULL OR c.at < $2::timestamptz)
      AND ($3::text IS NULL OR c.agent = $3::text) AND ($4::text IS NULL OR c.tenant = $4::text)
    GROUP BY ${positions}
    ORDER BY ${positions}`;
  return { text, values: [options.since ?? null, options.until ?? null, options.agent ?? null, options.tenant ?? null] };
}

/** bigint and count come back as text: numbers here (token totals stay far below 2^53). */
export function costRow(row: CostRow): CostRow {
  return {
    ...row,
    costUsd: Number(row.costUsd),
    inputTokens: Number(row.inputTokens),
    outputTokens: Number(row.outputTokens),
    calls: Number(row.calls),
    unpricedCalls: Number(row.unpricedCalls),
    cachedInputTokens: Number(row.cachedInputTokens),
    cacheWriteTokens: Number(row.cacheWriteTokens),
  };
}
