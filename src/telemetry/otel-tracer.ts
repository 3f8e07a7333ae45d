/**
 * The OpenTelemetry tracer: the SDK's BasicTracerProvider with a batch processor and the OTLP/HTTP
 * exporter (JSON), configured by the standard variables of the runtime's environment
 * (OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT and _HEADERS, OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES,
 * OTEL_TRACES_SAMPLER[_ARG], OTEL_TRACES_EXPORTER=otlp|console). Imported only when tracing is on.
 *
 * Ids: a thread launched without a trace gets a trace id derived from its id, so its segments in
 * any worker share one trace; the marker span where a segment leaves the thread waiting gets an id
 * derived from (thread, seq), so the segment that resumes it, in any process, can link to it
 * without anything stored (a wait of days is a link, never a span open for days).
 */
import { createHash } from 'node:crypto';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, TraceFlags, trace, type Context, type Link, type Span, type SpanContext } from '@opentelemetry/api';
import { TraceState } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BasicTracerProvider,
  BatchSpanProcessor,
  ConsoleSpanExporter,
  ParentBasedSampler,
  RandomIdGenerator,
  TraceIdRatioBasedSampler,
  type IdGenerator,
  type Sampler,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-base';
import { ATTR_ERROR_TYPE, ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import { TwelveError, errorMessage } from '../errors.js';
import { captureContentEnabled, type SegmentInfo, type SpanAttributes, type TraceSpan, type Tracer } from './tracer.js';
import { formatTraceparent, parseTraceparent, type TraceContext } from './trace-context.js';

/** Random ids, except for the next span or trace when the tracer chose one (set and used synchronously in startSpan). */
class ChosenIds implements IdGenerator {
  nextTraceId: string | undefined;
  nextSpanId: string | undefined;
  private readonly random = new RandomIdGenerator();
  generateTraceId(): string {
    const id = this.nextTraceId ?? this.random.generateTraceId();
    this.nextTraceId = undefined;
    return id;
  }
  generateSpanId(): string {
    const id = this.nextSpanId ?? this.random.generateSpanId();
    this.nextSpanId = undefined;
    return id;
  }
}

class OtelSpan implements TraceSpan {
  constructor(readonly span: Span) {}
  set(attributes: SpanAttributes): void {
    if (!this.span.isRecording()) return; // sampled out
    for (const [key, value] of Object.entries(attributes)) if (value !== undefined) this.span.setAttribute(key, value);
  }
  fail(error: unknown, type?: string): void {
    const message = errorMessage(error);
    this.span.recordException(error instanceof Error ? error : message);
    this.span.setStatus({ code: SpanStatusCode.ERROR, message });
    this.span.setAttribute(ATTR_ERROR_TYPE, type ?? (TwelveError.is(error) ? error.code : error instanceof Error ? error.name : 'error'));
  }
  end(): void {
    this.span.end();
  }
}

const digest = (text: string, hexLength: number) => createHash('sha256').update(text).digest('hex').slice(0, hexLength);
/** The trace of a thread launched without one. */
export const threadTraceId = (threadId: string) => digest(`twelve-trace:${threadId}`, 32);
/** The marker span where the thread started waiting at `seq`. */
export const waitSpanId = (threadId: string, seq: number) => digest(`twelve-wait:${threadId}:${seq}`, 16);

function remoteContext(stored: TraceContext | undefined): { context: Context; traceId?: string } {
  const parsed = parseTraceparent(stored?.traceparent);
  if (!parsed) return { context: ROOT_CONTEXT };
  const spanContext: SpanContext = { traceId: parsed.traceId, spanId: parsed.spanId, traceFlags: parsed.flags, isRemote: true };
  if (stored?.tracestate) spanContext.traceState = new TraceState(stored.tracestate);
  return { context: trace.setSpanContext(ROOT_CONTEXT, spanContext), traceId: parsed.traceId };
}

/** `k1=v1,k2=v2` (OTEL_RESOURCE_ATTRIBUTES, OTEL_EXPORTER_OTLP_HEADERS), values percent-decoded. */
function keyValues(text: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of (text ?? '').split(',')) {
    const at = pair.indexOf('=');
    if (at <= 0) continue;
    const key = pair.slice(0, at).trim();
    const raw = pair.slice(at + 1).trim();
    try {
      out[key] = decodeURIComponent(raw);
    } catch {
      out[key] = raw;
    }
  }
  return out;
}

function samplerFrom(env: NodeJS.ProcessEnv): Sampler {
  const name = env.OTEL_TRACES_SAMPLER?.trim().toLowerCase() || 'parentbased_always_on';
  const ratio = () => {
    const value = Number(env.OTEL_TRACES_SAMPLER_ARG ?? '1');
    if (!Number.isFinite(value) || value < 0 || value > 1) throw new TwelveError('config_invalid', `OTEL_TRACES_SAMPLER_ARG must be a number from 0 to 1 (got "${env.OTEL_TRACES_SAMPLER_ARG}")`);
    return value;
  };
  switch (name) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return new TraceIdRatioBasedSampler(ratio());
    case 'parentbased_always_on':
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio()) });
    default:
      throw new TwelveError('config_invalid', `OTEL_TRACES_SAMPLER "${env.OTEL_TRACES_SAMPLER}" is not supported (always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off, parentbased_traceidratio)`);
  }
}

/** How long closing the runtime waits for the last spans to reach the collector. */
export const shutdownBoundMs = 2_000;

function exporterFrom(env: NodeJS.ProcessEnv): SpanExporter {
  const kind = env.OTEL_TRACES_EXPORTER?.trim().toLowerCase() || 'otlp';
  if (kind === 'console') return new ConsoleSpanExporter();
  if (kind !== 'otlp') throw new TwelveError('config_invalid', `OTEL_TRACES_EXPORTER "${env.OTEL_TRACES_EXPORTER}" is not supported (otlp, console, none)`);
  const protocol = (env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? env.OTEL_EXPORTER_OTLP_PROTOCOL)?.trim();
  if (protocol && protocol !== 'http/json') {
    // This exporter speaks OTLP/HTTP with JSON bodies; every OTLP/HTTP collector accepts them.
    throw new TwelveError('config_invalid', `OTEL_EXPORTER_OTLP_PROTOCOL "${protocol}" is not supported; Twelve exports OTLP over http/json`);
  }
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  const url = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim() || (base ? `${base.replace(/\/+$/, '')}/v1/traces` : 'http://localhost:4318/v1/traces');
  const headers = { ...keyValues(env.OTEL_EXPORTER_OTLP_HEADERS), ...keyValues(env.OTEL_EXPORTER_OTLP_TRACES_HEADERS) };
  return new OTLPTraceExporter({ url, headers });
}

export function createOtelTracer(env: NodeJS.ProcessEnv, options: { version: string }): Tracer {
  const ids = new ChosenIds();
  const resource = resourceFromAttributes({
    [ATTR_SERVICE_NAME]: env.OTEL_SERVICE_NAME?.trim() || 'twelve',
    [ATTR_SERVICE_VERSION]: options.version,
    ...keyValues(env.OTEL_RESOURCE_ATTRIBUTES),
    ...(env.OTEL_SERVICE_NAME?.trim() ? { [ATTR_SERVICE_NAME]: env.OTEL_SERVICE_NAME.trim() } : {}),
  });
  const delay = Number(env.OTEL_BSP_SCHEDULE_DELAY ?? 5000);
  const processor = new BatchSpanProcessor(exporterFrom(env), { scheduledDelayMillis: Number.isFinite(delay) && delay >= 0 ? delay : 5000 });
  const provider = new BasicTracerProvider({ resource, sampler: samplerFrom(env), idGenerator: ids, spanProcessors: [processor] });
  const tracer = provider.getTracer('twelve-agents', options.version);
  const clean = (attributes: SpanAttributes) => Object.fromEntries(Object.entries(attributes).filter(([, value]) => value !== undefined)) as Record<string, string | number | boolean | string[]>;

  return {
    enabled: true,
    captureContent: captureContentEnabled(env),

    launch({ agent, releaseId, parent }) {
      const { context } = remoteContext(parent);
      const span = tracer.startSpan(`launch ${agent}`, { kind: SpanKind.PRODUCER, attributes: { 'gen_ai.agent.name': agent, 'gen_ai.agent.version': releaseId } }, context);
      const own = span.spanContext();
      const traceparent = formatTraceparent({ traceId: own.traceId, spanId: own.spanId, flags: own.traceFlags });
      return { span: new OtelSpan(span), context: parent?.tracestate ? { traceparent, tracestate: parent.tracestate } : { traceparent } };
    },

    segment(info: SegmentInfo) {
      const remote = remoteContext(info.parent);
      const traceId = remote.traceId ?? threadTraceId(info.threadId);
      if (!remote.traceId) ids.nextTraceId = traceId;
      const links: Link[] =
        info.resumedFrom === undefined
          ? []
          : [{ context: { traceId, spanId: waitSpanId(info.threadId, info.resumedFrom), traceFlags: TraceFlags.SAMPLED, isRemote: true }, attributes: { 'twelve.link': 'resumed_after_wait', 'twelve.seq': info.resumedFrom } }];
      const attributes = clean({
        'gen_ai.operation.name': 'invoke_agent',
        'gen_ai.agent.name': info.agent,
        'gen_ai.agent.version': info.releaseId,
        'twelve.thread.id': info.threadId,
        'twelve.seq': info.seq,
        'twelve.resumed_from_seq': info.resumedFrom,
      });
      const span = tracer.startSpan(`invoke_agent ${info.agent}`, { kind: SpanKind.INTERNAL, attributes, links }, remote.context);
      ids.nextTraceId = undefined;
      return new OtelSpan(span);
    },

    child(parent, name, attributes, kind = 'internal') {
      const context = parent instanceof OtelSpan ? trace.setSpan(ROOT_CONTEXT, parent.span) : ROOT_CONTEXT;
      return new OtelSpan(tracer.startSpan(name, { kind: kind === 'client' ? SpanKind.CLIENT : SpanKind.INTERNAL, attributes: clean(attributes) }, context));
    },

    waitStarted(segment, { threadId, seq, status }) {
      if (!(segment instanceof OtelSpan)) return;
      ids.nextSpanId = waitSpanId(threadId, seq);
      const span = tracer.startSpan(`wait ${status}`, { attributes: { 'twelve.thread.id': threadId, 'twelve.seq': seq, 'twelve.status': status } }, trace.setSpan(ROOT_CONTEXT, segment.span));
      ids.nextSpanId = undefined;
      span.end();
    },

    // Bounded: a collector that is down must not hold the process (the exporter retries for many seconds).
    shutdown: () => {
      let timer: NodeJS.Timeout | undefined;
      const bound = new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => reject(new Error(`traces not flushed within ${shutdownBoundMs / 1000} s (is the OTLP collector up?): the rest are dropped`)), shutdownBoundMs);
        timer.unref();
      });
      return Promise.race([provider.shutdown(), bound]).finally(() => clearTimeout(timer));
    },
  };
}
