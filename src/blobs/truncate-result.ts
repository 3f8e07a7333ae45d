/**
 * A tool result too large for an event (over TWELVE_MAX_PAYLOAD_BYTES) is stored once as a
 * blob; the event keeps a preview that ends in a note the model reads, so the rendered
 * context still depends on the events alone and the model knows it saw only part.
 */
import { blobOfText, formatBytes, type BlobRef, type NewBlob } from './blob.js';

/** How much of a truncated result the model still sees. */
export const previewBytes = 8 * 1024;

export interface LimitedResult {
  /** The result itself, or its preview and the note. */
  result: unknown;
  /** Set when truncated: the full result's blob, to store with the event, and its reference. */
  blob?: NewBlob;
  ref?: BlobRef;
}

/** `scrub` takes secrets out of the stored text, as the events' are (config/redact.ts). */
export function limitResult(result: unknown, maxBytes: number, scrub?: (text: string) => string): LimitedResult {
  const json = JSON.stringify(result) ?? 'null';
  if (Buffer.byteLength(json) <= maxBytes) return { result };
  const blob = blobOfText(scrub ? scrub(json) : json);
  // Scrubbed before the cut: a secret cut in two would no longer be recognised.
  const text = typeof result === 'string' ? (scrub ? scrub(result) : result) : blob.data;
  const shown = Math.min(previewBytes, maxBytes);
  const preview = Buffer.from(text).subarray(0, shown).toString('utf8').replace(/\uFFFD$/, '');
  const note = `[result truncated: ${formatBytes(blob.bytes)}, first ${formatBytes(shown)} shown; full result stored as blob ${blob.hash}]`;
  return { result: `${preview}\n${note}`, blob, ref: { ref: blob.hash, bytes: blob.bytes } };
}
