/**
 * Content-addressed blobs: a JSON value stored once under the sha256 of its JSON text. The
 * requests a model saw and tool results too large for an event live here; events carry only
 * the reference ("sha256:<hex>") and the size.
 *
 * The text keeps the value's key order (JSON.stringify), not stable-json's sorted keys: key
 * order is part of what the model saw (a tool result reaches it as JSON text, in the order the
 * tool built it), and a sorted copy would not be the exact request. JSON.stringify is still
 * deterministic for a given value, so a repeated request hashes the same and is stored once.
 */
import { sha256Hex } from '../util/sha256.js';

/** A blob as appended with the events that refer to it (store: INSERT ... ON CONFLICT DO NOTHING). */
export interface NewBlob {
  /** "sha256:<64 hex>" of `data`. */
  hash: string;
  /** UTF-8 length of `data`. */
  bytes: number;
  /** The canonical JSON text. */
  data: string;
}

export interface BlobRef {
  ref: string;
  bytes: number;
}

const refPattern = /^sha256:[0-9a-f]{64}$/;

export function isBlobRef(value: string): boolean {
  return refPattern.test(value);
}

/** The blob of a JSON value: its canonical text and hash. */
export function toBlob(value: unknown): NewBlob {
  return blobOfText(JSON.stringify(value) ?? 'null');
}

export function blobOfText(data: string): NewBlob {
  return { hash: `sha256:${sha256Hex(data)}`, bytes: Buffer.byteLength(data), data };
}

/** "1.2 MB", "8 KB", "312 B": sizes in notes people and models read. */
export function formatBytes(bytes: number): string {
  if (bytes >= 1_000_000) return `${(bytes / 1_000_000).toFixed(1)} MB`;
  if (bytes >= 1_000) return `${Math.round(bytes / 1_000)} KB`;
  return `${bytes} B`;
}
