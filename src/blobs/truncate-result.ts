/**
 * A tool result too large for an event (over TWELVE_MAX_PAYLOAD_BYTES) is stored once as a
 * blob; the event keeps a preview that ends in a note the model reads, so the rendered
 * context still depends on the events alone and the model knows it saw only part.
 */
import { formatBytes, toBlob, type BlobRef, type NewBlob } from './blob.js';

export const defaultMaxPayloadBytes = 256 * 1024;
/** How much of a truncated result the model still sees. */
export const previewBytes = 8 * 1024;

export interface LimitedResult {
  /** The result itself, or its preview and the note. */
  result: unknown;
  /** Set when truncated: the full result's blob, to store with the event, and its reference. */
  blob?: NewBlob;
  ref?: BlobRef;
}

export function limitResult(result: unknown, maxBytes: number): LimitedResult {
  const blob = toBlob(result);
  if (blob.bytes <= maxBytes) return { result };
  const text = typeof result === 'string' ? result : blob.data;
  const shown = Math.min(previewBytes, maxBytes);
  const preview = Buffer.from(text).subarray(0, shown).toString('utf8').replace(/\uFFFD$/, '');
  const note = `[result truncated: ${formatBytes(blob.bytes)}, first ${formatBytes(shown)} shown; full result stored as blob ${blob.hash}]`;
  return { result: `${preview}\n${note}`, blob, ref: { ref: blob.hash, bytes: blob.bytes } };
}
