/**
 * /metrics in Prometheus format (prom-client). Thread counts, usage totals (cost-metrics.ts) and
 * the output confidence histogram come from the store at scrape time (so they cover every process);
 * per-step counters (fallback answers included) and the tool latency histogram count what
 * this process appended.
 */
import client from 'prom-client';
import type { Runtime } from '../runtime/runtime.js';
import { threadStatuses } from '../thread/state.js';
import { registerConfidenceHistogram } from './confidence-metric.js';
import { registerCostMetrics } from './cost-metrics.js';

export class Metrics {
  readonly registry = new client.Registry();
  private readonly events: client.Counter;
  private readonly modelCalls: client.Counter;
  private readonly modelTokens: client.Counter;
  private readonly modelCost: client.Counter;
  private readonly modelUnpriced: client.Counter;
  private readonly modelLatency: client.Histogram;
  private readonly toolLatency: client.Histogram;
  private readonly fallbackAnswers: client.Counter;
  readonly httpRequests: client.Counter;
  private readonly unsubscribe: () => void;

  constructor(runtime: Runtime) {
    const registry = this.registry;
    this.events = new client.Counter({ name: 'twelve_events_total', help: 'Events appended by this process', labelNames: ['type'], registers: [registry] });
    this.modelCalls = new client.Counter({ name: 'twelve_model_calls_total', help: 'Model calls recorded by this process', labelNames: ['model'], registers: [registry] });
    this.modelTokens = new client.Counter({
      name: 'twelve_model_tokens_total',
      help: 'Tokens of model calls by this process, by kind: input (every input token), output, and of the input tokens cached_input (read from the prompt cache) and cache_write (written to it)',
      labelNames: ['model', 'kind'],
      registers: [registry],
    });
    this.modelCost = new client.Counter({ name: 'twelve_model_cost_usd_total', help: 'Cost of model calls by this process, USD', labelNames: ['model'], registers: [registry] });
    this.modelUnpriced = new client.Counter({
      name: 'twelve_model_calls_unpriced_total',
      help: 'Model calls by this process with no known price (not in twelve_model_cost_usd_total)',
      labelNames: ['model'],
      registers: [registry],
    });
    this.modelLatency = new client.Histogram({
      name: 'twelve_model_latency_seconds',
      help: 'Model call latency',
      labelNames: ['model'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60],
      registers: [registry],
    });
    this.toolLatency = new client.Histogram({
      name: 'twelve_tool_duration_seconds',
      help: 'Tool run duration',
      labelNames: ['tool'],
      buckets: [0.001, 0.005, 0.025, 0.1, 0.25, 1, 5, 30],
      registers: [registry],
    });
    this.httpRequests = new client.Counter({ name: 'twelve_http_requests_total', help: 'HTTP requests', labelNames: ['method', 'status'], registers: [registry] });
    this.fallbackAnswers = new client.Counter({
      name: 'twelve_fallback_answers_total',
      help: "Outputs produced by an agent's non-LLM fallback in this process, per agent and reason (models_failed, blocked, budget)",
      labelNames: ['agent', 'reason'],
      registers: [registry],
    });
    // Events name their release, not their agent: this process appends events of its own releases only.
    const agentOf = (releaseId: string) => runtime.agents.find((release) => release.releaseId === releaseId)?.agent.name ?? 'unknown';
    const tools = new Map<string, string>();
    this.unsubscribe = runtime.subscribe((event) => {
      this.events.inc({ type: event.type });
      if (event.type === 'model_called') {
        const model = event.data.model;
        this.modelCalls.inc({ model });
        this.modelTokens.inc({ model, kind: 'input' }, event.data.usage.inputTokens);
        this.modelTokens.inc({ model, kind: 'output' }, event.data.usage.outputTokens);
        // Counted even at 0, so a cache hit ratio (cached_input / input) has both series from the first call.
        this.modelTokens.inc({ model, kind: 'cached_input' }, event.data.usage.cachedInputTokens ?? 0);
        this.modelTokens.inc({ model, kind: 'cache_write' }, event.data.usage.cacheWriteTokens ?? 0);
        if (event.data.costUsd === null) this.modelUnpriced.inc({ model });
        else if (event.data.costUsd > 0) this.modelCost.inc({ model }, event.data.costUsd);
        this.modelLatency.observe({ model }, event.data.latencyMs / 1000);
      } else if (event.type === 'fallback_used') {
        this.fallbackAnswers.inc({ agent: agentOf(event.releaseId), reason: event.data.reason });
      } else if (event.type === 'tool_requested') {
        tools.set(`${event.threadId}:${event.data.callId}`, event.data.tool);
      } else if (event.type === 'tool_succeeded' || event.type === 'tool_failed') {
        const key = `${event.threadId}:${event.data.callId}`;
        const tool = tools.get(key) ?? 'unknown';
        tools.delete(key);
        if (event.data.durationMs !== undefined) this.toolLatency.observe({ tool }, event.data.durationMs / 1000);
      }
    });
    const store = runtime.store;
    new client.Gauge({
      name: 'twelve_threads',
      help: 'Threads by status (whole store)',
      labelNames: ['status'],
      registers: [registry],
      async collect() {
        const stats = await store.stats();
        for (const status of threadStatuses) this.set({ status }, stats.threadsByStatus[status] ?? 0);
      },
    });
    registerConfidenceHistogram(registry, store);
    registerCostMetrics(registry, store, { tenants: runtime.config.tenants.key !== undefined });
  }

  close(): void {
    this.unsubscribe();
  }
}
