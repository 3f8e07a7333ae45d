/**
 * The exact request a model step sent (the AI SDK call options: prompt messages, tools and
 * their JSON schemas, tool choice, response format, settings), kept as blobs so an audit shows
 * what the model saw even after the rendering code changed.
 *
 * Layout: each prompt message is a blob of its own and the request is a small blob listing
 * them by hash (tools, the same every step, are one more blob). Consecutive steps of a thread
 * resend every earlier message, so one blob per whole request grows with the square of the
 * thread's length; by message it grows with what is new (bench/request-blobs.md has the figures).
 */
import type { LanguageModelV3CallOptions } from '@ai-sdk/provider';
import { blobOfText, type BlobRef, type NewBlob } from '../blobs/blob.js';

const format = 'twelve.request/1';

/** The request blob: the call options with the prompt and tools replaced by blob hashes. */
interface RequestManifest {
  format: typeof format;
  prompt: string[];
  tools?: string;
  options: Omit<LanguageModelV3CallOptions, 'prompt' | 'tools' | 'abortSignal' | 'headers'>;
}

export interface RecordedRequest {
  /** What model_called.request carries. */
  request: BlobRef;
  /** Every blob to store with the event (the store keeps one copy of each). */
  blobs: NewBlob[];
}

/**
 * Each message's blob, computed once per message object: a thread's context builder keeps its
 * message objects from step to step (and a release its tool specs), so a step hashes only
 * what is new, not its whole context again (a step must cost the same on a long thread).
 * The builder appends tool calls to an assistant message in place (render-context.ts
 * ToolTurn.addCall, push only), so its cached hash is kept with its part count and redone when it grew.
 */
const blobOf = new WeakMap<object, { blob: NewBlob; parts: number }>();

/** Secrets out of a blob's text (config/redact.ts scrubText), as the events are scrubbed before they are written. */
export type Scrub = (text: string) => string;

function blobOfValue(value: unknown, scrub: Scrub | undefined): NewBlob {
  const text = JSON.stringify(value) ?? 'null';
  return blobOfText(scrub ? scrub(text) : text);
}

function cachedBlob(value: object, scrub: Scrub | undefined): NewBlob {
  // An assistant message only ever grows (parts pushed, none edited): its part count tells a stale hash.
  const parts = (value as { role?: string }).role === 'assistant' ? ((value as { content?: unknown[] }).content?.length ?? 0) : -1;
  const cached = blobOf.get(value);
  if (cached && cached.parts === parts) return cached.blob;
  const blob = blobOfValue(value, scrub);
  blobOf.set(value, { blob, parts });
  return blob;
}

/** Splits a request into its blobs. `bytes`: the request's size as JSON (its parts' sizes summed). */
export function recordRequest(request: LanguageModelV3CallOptions, scrub?: Scrub): RecordedRequest {
  const { prompt, tools, abortSignal: _signal, headers: _headers, ...options } = request;
  const blobs = new Map<string, NewBlob>();
  let bytes = 0;
  const keep = (blob: NewBlob) => {
    blobs.set(blob.hash, blob);
    bytes += blob.bytes;
    return blob.hash;
  };
  const manifest: RequestManifest = { format, prompt: prompt.map((message) => keep(cachedBlob(message, scrub))), options };
  if (tools) manifest.tools = keep(cachedBlob(tools, scrub));
  const head = blobOfValue(manifest, scrub);
  blobs.set(head.hash, head);
  bytes += Buffer.byteLength(JSON.stringify(options));
  return { request: { ref: head.hash, bytes }, blobs: [...blobs.values()] };
}

export interface BlobReader {
  getBlob(hash: string): Promise<{ data: string } | undefined>;
  getBlobs(hashes: string[]): Promise<Array<{ hash: string; data: string }>>;
}

/** The request stored under `ref`, put back together; undefined when it is not stored. */
export async function loadRequest(store: BlobReader, ref: string): Promise<LanguageModelV3CallOptions | undefined> {
  const head = await store.getBlob(ref);
  if (!head) return undefined;
  const manifest = JSON.parse(head.data) as RequestManifest;
  if (manifest.format !== format) throw new Error(`blob ${ref} is not a stored request (format ${String(manifest.format)})`);
  const wanted = [...new Set([...manifest.prompt, ...(manifest.tools ? [manifest.tools] : [])])];
  const parts = new Map((await store.getBlobs(wanted)).map((blob) => [blob.hash, JSON.parse(blob.data) as unknown]));
  const part = (hash: string) => {
    if (!parts.has(hash)) throw new Error(`request ${ref}: part ${hash} is missing from the blob store`);
    return parts.get(hash);
  };
  const request = { ...manifest.options, prompt: manifest.prompt.map(part) } as LanguageModelV3CallOptions;
  if (manifest.tools) request.tools = part(manifest.tools) as LanguageModelV3CallOptions['tools'];
  return request;
}

/** The one-blob alternative, kept for the bench's comparison only. */
export function wholeRequestBlob(request: LanguageModelV3CallOptions): NewBlob {
  return blobOfText(JSON.stringify(request));
}
