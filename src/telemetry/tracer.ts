/**
 * What the runtime asks of tracing: spans for a launch, a run segment (one claim of a thread by a
 * worker), a step, a model call and a tool call. The default is a no-op that allocates nothing;
 * the OpenTelemetry SDK (otel-tracer.ts) is imported only when an OTEL_* tracing variable is set,
 * so a process without them never loads it (see loadTracer).
 */
import type { TraceContext } from './trace-context.js';

export type SpanAttributes = Record<string, string | number | boolean | string[] | undefined>;

export interface TraceSpan {
  set(attributes: SpanAttributes): void;
  /** Records the error (exception event, status ERROR, error.type). */
  fail(error: unknown, type?: string): void;
  end(): void;
}

export interface SegmentInfo {
  threadId: string;
  agent: string;
  releaseId: string;
  /** The trace the thread was launched in (thread_started.trace); else the thread's own trace. */
  parent?: TraceContext | undefined;
  /** The seq at which the thread started waiting for a person or a timer, when this segment resumes it. */
  resumedFrom?: number | undefined;
  seq: number;
}

export interface Tracer {
  /** False for the no-op tracer: callers skip building attributes. */
  readonly enabled: boolean;
  /** Message content (redacted) goes on spans only when the user opted in. */
  readonly captureContent: boolean;
  /** A launch span (child of the caller's traceparent); its context is what the thread stores. */
  launch(info: { agent: string; releaseId: string; parent?: TraceContext | undefined }): { span: TraceSpan; context: TraceContext };
  segment(info: SegmentInfo): TraceSpan;
  /** A span under `parent` (a segment or a step). */
  child(parent: TraceSpan, name: string, attributes: SpanAttributes, kind?: 'client' | 'internal'): TraceSpan;
  /** A zero-length span marking where a segment left the thread waiting; the resuming segment links to it. */
  waitStarted(segment: TraceSpan, info: { threadId: string; seq: number; status: string }): void;
  /** Flushes what is buffered. */
  shutdown(): Promise<void>;
}

const noopSpan: TraceSpan = { set() {}, fail() {}, end() {} };

export const noopTracer: Tracer = {
  enabled: false,
  captureContent: false,
  launch: () => ({ span: noopSpan, context: { traceparent: '' } }),
  segment: () => noopSpan,
  child: () => noopSpan,
  waitStarted() {},
  shutdown: async () => undefined,
};

/** Whether the standard variables ask for traces: an OTLP endpoint, or OTEL_TRACES_EXPORTER other than none. */
export function tracingEnabled(env: NodeJS.ProcessEnv): boolean {
  const exporter = env.OTEL_TRACES_EXPORTER?.trim().toLowerCase();
  if (exporter === 'none' || env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return false;
  return Boolean(exporter || env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim() || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim());
}

/** Whether message content is put on spans (OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true or TWELVE_TRACE_CONTENT=1). */
export function captureContentEnabled(env: NodeJS.ProcessEnv): boolean {
  return env.OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT?.trim().toLowerCase() === 'true' || /^(1|true)$/i.test(env.TWELVE_TRACE_CONTENT?.trim() ?? '');
}

const samplers = ['always_on', 'always_off', 'traceidratio', 'parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio'];

/**
 * The problems with the OTEL_* tracing variables, one line each (empty when fine). Checked before
 * the SDK loads, so a typo stops the process at start, naming the variable, instead of tracing
 * silently going nowhere.
 */
export function tracingProblems(env: NodeJS.ProcessEnv): string[] {
  const problems: string[] = [];
  const sampler = env.OTEL_TRACES_SAMPLER?.trim().toLowerCase();
  if (sampler && !samplers.includes(sampler)) problems.push(`OTEL_TRACES_SAMPLER: "${env.OTEL_TRACES_SAMPLER}" is not one of ${samplers.join(', ')}`);
  const arg = env.OTEL_TRACES_SAMPLER_ARG?.trim();
  if (arg && sampler?.endsWith('traceidratio') && !(Number(arg) >= 0 && Number(arg) <= 1)) problems.push(`OTEL_TRACES_SAMPLER_ARG: "${arg}" is not a number from 0 to 1`);
  const exporter = env.OTEL_TRACES_EXPORTER?.trim().toLowerCase();
  if (exporter && !['otlp', 'console', 'none'].includes(exporter)) problems.push(`OTEL_TRACES_EXPORTER: "${env.OTEL_TRACES_EXPORTER}" is not one of otlp, console, none`);
  const protocol = (env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? env.OTEL_EXPORTER_OTLP_PROTOCOL)?.trim();
  if (protocol && protocol !== 'http/json') problems.push(`OTEL_EXPORTER_OTLP_PROTOCOL: "${protocol}" is not supported; Twelve exports OTLP over http/json (every OTLP/HTTP collector accepts it)`);
  for (const name of ['OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT']) {
    const value = env[name]?.trim();
    if (value && !/^https?:\/\/[^\s]+$/.test(value)) problems.push(`${name}: "${value}" is not an http(s) URL`);
  }
  return problems;
}

/** The OpenTelemetry tracer when the environment asks for one, else undefined (and nothing is imported). */
export async function loadTracer(env: NodeJS.ProcessEnv, options: { version: string }): Promise<Tracer | undefined> {
  if (!tracingEnabled(env)) return undefined;
  const { createOtelTracer } = await import('./otel-tracer.js');
  return createOtelTracer(env, options);
}
