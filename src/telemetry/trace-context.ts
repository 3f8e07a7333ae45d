/**
 * W3C trace context (https://www.w3.org/TR/trace-context/) as Twelve stores it with a thread:
 * the `traceparent` a caller sent (or the launch span's own), so every later step span, in any
 * worker, joins that trace. Pure and dependency-free: parsing it must not load the tracing SDK.
 */
export interface TraceContext {
  traceparent: string;
  tracestate?: string;
}

// version 00: 2 hex version, 32 hex trace id, 16 hex parent id, 2 hex flags; all-zero ids are invalid.
const traceparentPattern = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;

export interface ParsedTraceparent {
  traceId: string;
  spanId: string;
  flags: number;
}

/** The ids of a traceparent header, or undefined when it is not a valid one (a bad header is ignored, as the spec says). */
export function parseTraceparent(value: string | undefined): ParsedTraceparent | undefined {
  const match = value ? traceparentPattern.exec(value.trim().toLowerCase()) : null;
  if (!match) return undefined;
  const [, version, traceId, spanId, flags, rest] = match as unknown as [string, string, string, string, string, string | undefined];
  if (version === 'ff' || (version === '00' && rest !== undefined)) return undefined;
  if (/^0+$/.test(traceId) || /^0+$/.test(spanId)) return undefined;
  return { traceId, spanId, flags: parseInt(flags, 16) };
}

/** The trace context to store from incoming headers: undefined without a valid traceparent. */
export function traceContextFrom(headers: { traceparent?: string | undefined; tracestate?: string | undefined }): TraceContext | undefined {
  const parsed = parseTraceparent(headers.traceparent);
  if (!parsed) return undefined;
  const traceparent = formatTraceparent(parsed);
  const tracestate = headers.tracestate?.trim().slice(0, 512);
  return tracestate ? { traceparent, tracestate } : { traceparent };
}

export function formatTraceparent({ traceId, spanId, flags }: ParsedTraceparent): string {
  return `00-${traceId}-${spanId}-${(flags & 0xff).toString(16).padStart(2, '0')}`;
}
