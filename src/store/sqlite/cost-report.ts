/**
 * Store.costReport on SQLite: one aggregate over the model_called events joined to their
 * threads (agent, tenant), grouped by up to two dimensions. An unpriced call (costUsd null)
 * is counted in unpricedCalls and adds nothing to costUsd: its spend is unknown, never $0.
 * A fork's copies of its origin's events keep their first time, before the fork was created:
 * `e.at >= t.created_at` leaves them out, so a call is counted once (as daily_spend counts it).
 * The group expressions come from the fixed map below, never from the caller's text.
 */
import type Database from 'better-sqlite3';
import type { CostDimension, CostReportOptions, CostRow } from '../../costs/types.js';

const groupExpression: Record<CostDimension, string> = {
  agent: 't.agent',
  model: `json_extract(e.data, '$.model')`,
  // Stored times are ISO UTC strings: the first ten characters are the UTC day.
  day: 'substr(e.at, 1, 10)',
  tenant: 't.tenant',
};

export function sqliteCostReport(db: Database.Database, options: CostReportOptions): CostRow[] {
  const groups = options.by.map((dimension) => `${groupExpression[dimension]} AS ${dimension}`);
  const sql = `SELECT ${groups.join(', ')},
      coalesce(sum(json_extract(e.data, '$.costUsd')), 0) AS costUsd,
      coalesce(sum(json_extract(e.data, '$.usage.inputTokens')), 0) AS inputTokens,
      coalesce(sum(json_extract(e.data, '$.usage.outputTokens')), 0) AS outputTokens,
      count(*) AS calls,
      sum(json_type(e.data, '$.costUsd') IS NOT 'real' AND json_type(e.data, '$.costUsd') IS NOT 'integer') AS unpricedCalls
    FROM events e JOIN threads t ON t.id = e.thread_id
    WHERE e.type = 'model_called' AND e.at >= t.created_at
      AND (@since IS NULL OR e.at >= @since) AND (@until IS NULL OR e.at < @until)
      AND (@agent IS NULL OR t.agent = @agent) AND (@tenant IS NULL OR t.tenant = @tenant)
    GROUP BY ${options.by.map((_, index) => index + 1).join(', ')}
    ORDER BY ${options.by.map((_, index) => index + 1).join(', ')}`;
  return db.prepare(sql).all({
    since: options.since ?? null,
    until: options.until ?? null,
    agent: options.agent ?? null,
    tenant: options.tenant ?? null,
  }) as CostRow[];
}
