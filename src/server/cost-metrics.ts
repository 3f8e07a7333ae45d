/**
 * Spend and tokens per agent (and per tenant, when TWELVE_TENANT_KEY is set), and their whole-store
 * totals, in /metrics, read
 * at scrape time with the same aggregate as `twelve costs` (Store.costReport over the
 * model_called events), so the three agree by construction and cover every process. One query
 * per dimension per scrape: the gauges of a dimension share it.
 */
import client from 'prom-client';
import type { CostDimension, CostRow } from '../costs/types.js';
import type { Store } from '../store/types.js';

export function registerCostMetrics(registry: client.Registry, store: Store, options: { tenants: boolean }): void {
  // A scrape reads every gauge at once: one report per dimension, shared for that moment.
  const pending = new Map<CostDimension, { at: number; rows: Promise<CostRow[]> }>();
  const report = (by: 'agent' | 'tenant') => {
    const cached = pending.get(by);
    if (cached && Date.now() - cached.at < 1_000) return cached.rows;
    const rows = store.costReport({ by: [by] });
    pending.set(by, { at: Date.now(), rows });
    rows.catch(() => pending.delete(by));
    return rows;
  };
  const gauges = (by: 'agent' | 'tenant') => {
    // A thread with no tenant is counted under tenant="" (Prometheus has no null label).
    const label = (row: CostRow) => ({ [by]: (by === 'agent' ? row.agent : row.tenant) ?? '' });
    const gauge = (name: string, help: string, labelNames: string[], set: (gauge: client.Gauge, row: CostRow) => void) =>
      new client.Gauge({
        name,
        help,
        labelNames,
        registers: [registry],
        async collect() {
          const rows = await report(by);
          this.reset();
          for (const row of rows) set(this, row);
        },
      });
    gauge(`twelve_${by}_cost_usd`, `Model spend per ${by}, USD, of the calls with a known price (whole store, from the events)`, [by], (g, r) => g.set(label(r), r.costUsd));
    const kinds = 'input (every input token), output, and of the input tokens cached_input (read from the prompt cache) and cache_write (written to it)';
    gauge(`twelve_${by}_tokens`, `Model tokens per ${by} and kind: ${kinds} (whole store, from the events)`, [by, 'kind'], (g, r) => {
      g.set({ ...label(r), kind: 'input' }, r.inputTokens);
      g.set({ ...label(r), kind: 'output' }, r.outputTokens);
      g.set({ ...label(r), kind: 'cached_input' }, r.cachedInputTokens);
      g.set({ ...label(r), kind: 'cache_write' }, r.cacheWriteTokens);
    });
    gauge(`twelve_${by}_model_calls`, `Model calls per ${by} (whole store, from the events)`, [by], (g, r) => g.set(label(r), r.calls));
    gauge(`twelve_${by}_unpriced_model_calls`, `Model calls per ${by} with no known price, so not in twelve_${by}_cost_usd`, [by], (g, r) => g.set(label(r), r.unpricedCalls));
  };
  gauges('agent');
  if (options.tenants) gauges('tenant');
  // Whole-store totals: the per-agent rows summed. From the events, like the rest: a parent's thread
  // row also holds its finished children's spend (child_finished), so summing thread rows would
  // count a child's calls twice.
  const total = (name: string, help: string, pick: (row: CostRow) => number) =>
    new client.Gauge({
      name,
      help,
      registers: [registry],
      async collect() {
        this.set((await report('agent')).reduce((sum, row) => sum + pick(row), 0));
      },
    });
  total('twelve_model_steps', 'Model steps recorded (whole store, from the events)', (r) => r.calls);
  total('twelve_tokens', 'Input + output tokens recorded (whole store, from the events)', (r) => r.inputTokens + r.outputTokens);
  total('twelve_cached_input_tokens', "Of the input tokens in twelve_tokens, those read from a provider's prompt cache (whole store)", (r) => r.cachedInputTokens);
  total('twelve_cache_write_tokens', "Of the input tokens in twelve_tokens, those written to a provider's prompt cache (whole store)", (r) => r.cacheWriteTokens);
  total('twelve_cost_usd', 'Model spend recorded, USD, of the calls with a known price (whole store, from the events)', (r) => r.costUsd);
  total('twelve_unpriced_model_calls', 'Model calls recorded with no known price, so not in twelve_cost_usd (whole store)', (r) => r.unpricedCalls);
}
