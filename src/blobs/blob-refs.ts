/**
 * Which blobs an event or a blob names. Events: model_called / model_failed `request.ref` (the
 * stored request) and tool_succeeded `blob.ref` (a truncated result's full text). A stored
 * request names more: its `base` (the thread's previous request), its `tools` blob and, in the
 * older 'twelve.request/1' layout, every message by hash in `prompt`. Retention follows these to
 * archive every blob a pruned thread needs and to sweep the ones nothing live needs
 * (the stores' sweeps compute the same closure in SQL: keep them in step).
 */

/** The event types whose data names a blob, and where. */
export const blobRefPaths = { model_called: '$.request.ref', model_failed: '$.request.ref', tool_succeeded: '$.blob.ref' } as const;

/** The blob an event names directly, if any. */
export function eventBlobRef(event: { type: string; data: unknown }): string | undefined {
  const data = event.data as { request?: { ref?: unknown }; blob?: { ref?: unknown } } | null;
  if (!data || typeof data !== 'object') return undefined;
  const ref = event.type === 'tool_succeeded' ? data.blob?.ref : event.type === 'model_called' || event.type === 'model_failed' ? data.request?.ref : undefined;
  return typeof ref === 'string' ? ref : undefined;
}

/** The text every stored request's blob starts with (request-record.ts writes `format` first). */
export const requestPrefix = '{"format":"twelve.request/';

/** The blobs a stored request names (base, tools, v1 prompt hashes); none for any other blob. */
export function manifestRefs(data: string): string[] {
  if (!data.startsWith(requestPrefix)) return [];
  let manifest: { base?: unknown; tools?: unknown; prompt?: unknown };
  try {
    manifest = JSON.parse(data) as typeof manifest;
  } catch {
    return [];
  }
  const refs: string[] = [];
  if (typeof manifest.base === 'string') refs.push(manifest.base);
  if (typeof manifest.tools === 'string') refs.push(manifest.tools);
  if (Array.isArray(manifest.prompt)) for (const hash of manifest.prompt) if (typeof hash === 'string') refs.push(hash);
  return refs;
}
