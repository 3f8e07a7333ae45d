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

/**
 * The request blob: the call options with the prompt and tools replaced by blob hashes. With
 * `base`, it extends the thread's previous request: the prompt is the base's first `keep`
 * messages, then `prompt` — so a step writes what is new, not the whole list again (a thread's
 * context is mostly append-only). Every `maxChain`-th request lists its whole prompt, which
 * bounds what reading one back costs.
 */
interface RequestManifest {
  format: typeof format;
  base?: string;
  keep?: number;
  prompt: string[];
  tools?: string;
  options: Omit<LanguageModelV3CallOptions, 'prompt' | 'tools' | 'abortSignal' | 'headers'>;
}

/** Requests chained on a base before one lists its whole prompt again. */
const maxChain = 32;

/** The thread's previous stored request, as the next one may extend it. */
export interface PreviousRequest {
  ref: string;
  prompt: string[];
  /** How many bases reading it back follows. */
  depth: number;
}

export interface RecordedRequest {
  /** What model_called.request carries. */
  request: BlobRef;
  /** Every blob to store with the event (the store keeps one copy of each). */
  blobs: NewBlob[];
  /** What the next request of the thread may extend, once this one is stored. */
  next: PreviousRequest;
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
export function recordRequest(request: LanguageModelV3CallOptions, scrub?: Scrub, previous?: PreviousRequest): RecordedRequest {
  const { prompt, tools, abortSignal: _signal, headers: _headers, ...options } = request;
  const blobs = new Map<string, NewBlob>();
  let bytes = 0;
  const keep = (blob: NewBlob) => {
    blobs.set(blob.hash, blob);
    bytes += blob.bytes;
    return blob.hash;
  };
  const hashes = prompt.map((message) => keep(cachedBlob(message, scrub)));
  let kept = 0;
  if (previous && previous.depth < maxChain) {
    while (kept < hashes.length && kept < previous.prompt.length && hashes[kept] === previous.prompt[kept]) kept++;
  }
  const manifest: RequestManifest = kept > 0 ? { format, base: previous!.ref, keep: kept, prompt: hashes.slice(kept), options } : { format, prompt: hashes, options };
  if (tools) manifest.tools = keep(cachedBlob(tools, scrub));
  const head = blobOfValue(manifest, scrub);
  blobs.set(head.hash, head);
  bytes += Buffer.byteLength(JSON.stringify(options));
  const next = { ref: head.hash, prompt: hashes, depth: kept > 0 ? previous!.depth + 1 : 0 };
  return { request: { ref: head.hash, bytes }, blobs: [...blobs.values()], next };
}

/** A stored request's whole prompt (its hashes), following its bases. */
async function promptOf(store: BlobReader, ref: string, depth = 0): Promise<{ manifest: RequestManifest; prompt: string[] } | undefined> {
  const head = await store.getBlob(ref);
  if (!head) return undefined;
  const manifest = JSON.parse(head.data) as RequestManifest;
  if (manifest.format !== format) throw new Error(`blob ${ref} is not a stored request (format ${String(manifest.format)})`);
  if (!manifest.base) return { manifest, prompt: manifest.prompt };
  if (depth > maxChain * 2) throw new Error(`request ${ref}: more than ${maxChain * 2} bases to follow; the stored requests are damaged`);
  const base = await promptOf(store, manifest.base, depth + 1);
  if (!base) throw new Error(`request ${ref}: its base ${manifest.base} is missing from the blob store`);
  return { manifest, prompt: [...base.prompt.slice(0, manifest.keep ?? 0), ...manifest.prompt] };
}

export interface BlobReader {
  getBlob(hash: string): Promise<{ data: string } | undefined>;
  getBlobs(hashes: string[]): Promise<Array<{ hash: string; data: string }>>;
}

/** The request stored under `ref`, put back together; undefined when it is not stored. */
export async function loadRequest(store: BlobReader, ref: string): Promise<LanguageModelV3CallOptions | undefined> {
  const found = await promptOf(store, ref);
  if (!found) return undefined;
  const { manifest, prompt } = found;
  const wanted = [...new Set([...prompt, ...(manifest.tools ? [manifest.tools] : [])])];
  const parts = new Map((await store.getBlobs(wanted)).map((blob) => [blob.hash, JSON.parse(blob.data) as unknown]));
  const part = (hash: string) => {
    if (!parts.has(hash)) throw new Error(`request ${ref}: part ${hash} is missing from the blob store`);
    return parts.get(hash);
  };
  const request = { ...manifest.options, prompt: prompt.map(part) } as LanguageModelV3CallOptions;
  if (manifest.tools) request.tools = part(manifest.tools) as LanguageModelV3CallOptions['tools'];
  return request;
}

/** The one-blob alternative, kept for the bench's comparison only. */
export function wholeRequestBlob(request: LanguageModelV3CallOptions): NewBlob {
  return blobOfText(JSON.stringify(request));
}
