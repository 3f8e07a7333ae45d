/**
 * Store.costReport on SQLite: one aggregate over the model_called events joined to their
 * threads (agent, tenant), plus cost_rollup (the calls of pruned threads, folded by day, agent,
 * model and tenant when twelve prune deleted them), grouped by up to two dimensions. An unpriced
 * call (costUsd null) is counted in unpricedCalls and adds nothing to costUsd: its spend is
 * unknown, never $0. A fork's copies of its origin's events (the events before its
 * thread_forked) are left out, so a call is counted once. A rollup row covers a whole UTC day:
 * --since/--until count it when its day overlaps the range.
 * The group expressions come from the fixed map below, never from the caller's text.
 */
import type Database from 'better-sqlite3';
import type { CostDimension, CostReportOptions, CostRow } from '../../costs/types.js';

const groupExpression: Record<CostDimension, string> = {
  agent: 'c.agent',
  model: `nullif(c.model, '')`,
  day: 'c.day',
  tenant: `nullif(c.tenant, '')`,
};

/**
 * Each model call of the threads `threads` (an SQL condition on e.thread_id) as one row in
 * cost_rollup's columns, with its time: what the report adds up and what prune folds.
 * Stored times are ISO UTC strings: the first ten characters are the UTC day.
 */
export function modelCallsSql(threads: string): string {
  return `SELECT substr(e.at, 1, 10) AS day, t.agent AS agent, coalesce(json_extract(e.data, '$.model'), '') AS model, coalesce(t.tenant, '') AS tenant, e.at AS at,
      coalesce(json_extract(e.data, '$.costUsd'), 0) AS cost_usd,
      coalesce(json_extract(e.data, '$.usage.inputTokens'), 0) AS input_tokens,
      coalesce(json_extract(e.data, '$.usage.outputTokens'), 0) AS output_tokens,
      1 AS calls,
      (json_type(e.data, '$.costUsd') IS NOT 'real' AND json_type(e.data, '$.costUsd') IS NOT 'integer') AS unpriced_calls,
      coalesce(json_extract(e.data, '$.usage.cachedInputTokens'), 0) AS cached_input_tokens,
      coalesce(json_extract(e.data, '$.usage.cacheWriteTokens'), 0) AS cache_write_tokens
    FROM events e JOIN threads t ON t.id = e.thread_id
      LEFT JOIN (SELECT thread_id, min(seq) AS seq FROM events WHERE type = 'thread_forked' AND ${threads.replaceAll('e.thread_id', 'thread_id')} GROUP BY thread_id) f ON f.thread_id = e.thread_id
    WHERE e.type = 'model_called' AND (f.seq IS NULL OR e.seq > f.seq) AND ${threads}`;
}

/** Folds the model calls of the threads in json array `?` into cost_rollup (prune, before it deletes them). */
export const rollupSql = `
  INSERT INTO cost_rollup (day, agent, model, tenant, cost_usd, input_tokens, output_tokens, calls, unpriced_calls, cached_input_tokens, cache_write_tokens)
  SELECT day, agent, model, tenant, sum(cost_usd), sum(input_tokens), sum(output_tokens), sum(calls), sum(unpriced_calls), sum(cached_input_tokens), sum(cache_write_tokens)
    FROM (${modelCallsSql(`e.thread_id IN (SELECT value FROM json_each(@threads))`)}) WHERE true
    GROUP BY day, agent, model, tenant
  ON CONFLICT (day, agent, model, tenant) DO UPDATE SET cost_usd = cost_usd + excluded.cost_usd, input_tokens = input_tokens + excluded.input_tokens,
    output_tokens = output_tokens + excluded.output_tokens, calls = calls + excluded.calls, unpriced_calls = unpriced_calls + excluded.unpriced_calls,
    cached_input_tokens = cached_input_tokens + excluded.cached_input_tokens, cache_write_tokens = cache_write_tokens + excluded.cache_write_tokens`;

export function sqliteCostReport(db: Database.Database, options: CostReportOptions): CostRow[] {
  const groups = options.by.map((dimension) => `${groupExpression[dimension]} AS ${dimension}`);
  const positions = options.by.map((_, index) => index + 1).join(', ');
  const sql = `SELECT ${groups.join(', ')},
      coalesce(sum(c.cost_usd), 0) AS costUsd,
      coalesce(sum(c.input_tokens), 0) AS inputTokens,
      coalesce(sum(c.output_tokens), 0) AS outputTokens,
      sum(c.calls) AS calls,
      sum(c.unpriced_calls) AS unpricedCalls,
      coalesce(sum(c.cached_input_tokens), 0) AS cachedInputTokens,
      coalesce(sum(c.cache_write_tokens), 0) AS cacheWriteTokens
    FROM (${modelCallsSql('true')}
      UNION ALL SELECT day, agent, model, tenant, day AS at, cost_usd, input_tokens, output_tokens, calls, unpriced_calls, cached_input_tokens, cache_write_tokens FROM cost_rollup) c
    WHERE (@since IS NULL OR c.at >= @since OR c.at = substr(@since, 1, 10)) AND (@until IS NULL OR c.at < @until)
      AND (@agent IS NULL OR c.agent = @agent) AND (@tenant IS NULL OR c.tenant = @tenant)
    GROUP BY ${positions}
    ORDER BY ${positions}`;
  return db.prepare(sql).all({
    since: options.since ?? null,
    until: options.until ?? null,
    agent: options.agent ?? null,
    tenant: options.tenant ?? null,
  }) as CostRow[];
}
