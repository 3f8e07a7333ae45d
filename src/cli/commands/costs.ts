/**
 * `twelve costs`: spend, tokens and model calls from the events, grouped by agent, model, day
 * or tenant (local store, or TWELVE_URL). Calls of unknown price are counted and flagged, never $0.
 */
import { costTable, totalOf } from '../../costs/present.js';
import { parseCostQuery } from '../../costs/query.js';
import type { CostReportOptions, CostRow } from '../../costs/types.js';
import { print, usageError, type CommandSpec, type Flags } from '../command.js';

export const costs: CommandSpec = {
  name: 'costs',
  summary: 'spend, tokens and model calls by agent, model, day or tenant; unpriced calls flagged',
  usage: ['costs [--by agent|model|day|tenant] [--since 7d] [--until 1d] [--agent a] [--tenant t] [--json]'],
  flags: {
    by: 'group by one or two of agent, model, day, tenant (e.g. day,agent); default agent',
    since: 'only calls at or after: an age (30m, 24h, 7d, 2w) or an ISO date or time; default: all',
    until: 'only calls before: an age or an ISO date or time',
    agent: 'only this agent\'s threads',
    tenant: 'only this tenant\'s threads (the launch metadata key TWELVE_TENANT_KEY names)',
    json: 'one JSON object: by, since, until, rows, total',
  },
  details: `Read from the model_called events (one aggregate query), so it agrees with the thread logs and
with /metrics. Days are UTC. A call whose model has no known price adds its tokens and counts as
unpriced: its spend is unknown, so the dollars shown leave it out and say so; price the model with
TWELVE_MODEL_PRICES. A tenant is the value of the launch metadata key TWELVE_TENANT_KEY names (e.g.
customer); threads launched without it have none.`,
  async run(args, flags) {
    if (args.length > 0) throw usageError(costs);
    const options = parseCostQuery(flags);
    const { openStoreForReading } = await import('../local.js');
    const store = await openStoreForReading();
    try {
      return printReport(options, await store.costReport(options), flags);
    } finally {
      await store.close();
    }
  },
  async remote(args, flags) {
    if (args.length > 0) throw usageError(costs);
    const options = parseCostQuery(flags);
    const { withClient } = await import('../remote/connection.js');
    return withClient(async (client) => {
      const report = await client.costs({ by: options.by.join(','), since: options.since, until: options.until, agent: options.agent, tenant: options.tenant });
      return printReport(options, report.rows, flags);
    });
  },
};

function printReport(options: CostReportOptions, rows: CostRow[], flags: Flags): number {
  if (flags.json) return print(JSON.stringify({ by: options.by, since: options.since ?? null, until: options.until ?? null, rows, total: totalOf(rows) }));
  return print(costTable(options.by, rows));
}
