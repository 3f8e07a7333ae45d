/**
 * Store.costReport on PostgreSQL: one aggregate over the model_called events joined to their
 * threads (agent, tenant), grouped by up to two dimensions. An unpriced call (costUsd null)
 * is counted in unpricedCalls and adds nothing to costUsd: its spend is unknown, never $0.
 * A fork's copies of its origin's events (kept with their first time) are left out: see SQLite's.
 * The group expressions come from the fixed map below, never from the caller's text.
 */
import type { CostDimension, CostReportOptions, CostRow } from '../../costs/types.js';

const groupExpression: Record<CostDimension, string> = {
  agent: 't.agent',
  model: `e.data ->> 'model'`,
  // The UTC day, like SQLite's (and daily_spend's) first ten characters of the ISO time.
  day: `to_char(e.at AT TIME ZONE 'UTC', 'YYYY-MM-DD')`,
  tenant: 't.tenant',
};

export function postgresCostReport(options: CostReportOptions): { text: string; values: unknown[] } {
  const groups = options.by.map((dimension) => `${groupExpression[dimension]} AS "${dimension}"`);
  const positions = options.by.map((_, index) => index + 1).join(', ');
  const text = `SELECT ${groups.join(', ')},
      coalesce(sum((e.data ->> 'costUsd')::float8), 0) AS "costUsd",
      coalesce(sum((e.data -> 'usage' ->> 'inputTokens')::bigint), 0) AS "inputTokens",
      coalesce(sum((e.data -> 'usage' ->> 'outputTokens')::bigint), 0) AS "outputTokens",
      count(*) AS "calls",
      count(*) FILTER (WHERE e.data ->> 'costUsd' IS NULL) AS "unpricedCalls"
    FROM events e JOIN threads t ON t.id = e.thread_id
    WHERE e.type = 'model_called' AND e.at >= t.created_at
      AND ($1::timestamptz IS NULL OR e.at >= $1::timestamptz) AND ($2::timestamptz IS NULL OR e.at < $2::timestamptz)
      AND ($3::text IS NULL OR t.agent = $3::text) AND ($4::text IS NULL OR t.tenant = $4::text)
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
  };
}
