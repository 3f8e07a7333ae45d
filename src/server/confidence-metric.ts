/**
 * twelve_output_confidence: a per-agent Prometheus histogram of the confidence of completed
 * outputs (where the agent declares one), read from the store at scrape time, so it covers
 * every process and agrees with the thread_completed events. prom-client's Histogram only
 * counts observations made in this process, so this is a small collector of its own shape.
 */
import type client from 'prom-client';
import type { Store } from '../store/types.js';

/** Upper bounds of the buckets; +Inf is added. Written out, so the labels read 0.3, not 0.30000000000000004. */
export const confidenceBuckets = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1];

const name = 'twelve_output_confidence';
const help = "Confidence of completed outputs, per agent (the agents that declare where their output carries one; whole store)";

export function registerConfidenceHistogram(registry: client.Registry, store: Store): void {
  const get = async () => {
    const values: Array<{ metricName: string; labels: Record<string, string | number>; value: number }> = [];
    for (const entry of await store.confidenceHistogram(confidenceBuckets)) {
      confidenceBuckets.forEach((le, index) => values.push({ metricName: `${name}_bucket`, labels: { agent: entry.agent, le }, value: entry.counts[index]! }));
      values.push({ metricName: `${name}_bucket`, labels: { agent: entry.agent, le: '+Inf' }, value: entry.count });
      values.push({ metricName: `${name}_sum`, labels: { agent: entry.agent }, value: entry.sum });
      values.push({ metricName: `${name}_count`, labels: { agent: entry.agent }, value: entry.count });
    }
    return { name, help, type: 'histogram' as const, aggregator: 'sum' as const, values };
  };
  // The registry only calls get() (and reads name, help, type) on what it is given.
  registry.registerMetric({ name, help, type: 'histogram', aggregator: 'sum', get } as unknown as client.Metric);
}
