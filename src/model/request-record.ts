/**
 * The exact request a model step sent (the AI SDK call options: prompt messages, tools and
 * their JSON schemas, tool choice, response format, settings), kept as blobs so an audit shows
 * what the model saw even after the rendering code changed.
 *
 * Layout: a request blob holds the messages new since the thread's previous request and names
 * that request as its base (tools, the same every step, are one more blob). Consecutive steps of
 * a thread resend every earlier message, so one blob per whole request grows with the square of
 * the thread's length; chained, it grows with what is new (bench/request-blobs.mjs has the figures).
 */
import type { LanguageModelV3CallOptions } from '@ai-sdk/provider';
import { blobOfText, type BlobRef, type NewBlob } from '../blobs/blob.js';

/** Requests stored before messages were inlined: every message a blob of its own, listed by hash. */
const formatByHash = 'twelve.request/1';
/** The current layout: the new messages inline, the earlier ones by reference to the base. */
const format = 'twelve.request/2';

/**
 * The request blob: the call options with the tools replaced by their blob's hash. With `base`,
 * it extends the thread's previous request: the prompt is the base's first `keep` messages, then
 * `messages` — so a step writes what is new, not the whole list again (a thread's context is
 * mostly append-only). Every `maxChain`-th request lists its whole prompt, which bounds what
 * reading one back costs.
 *
 * The new messages are inline, so a step writes one blob (two on a session's first step, with
 * the tools): a blob row is a random-key insert, and three of them per step (a manifest and two
 * message blobs, the layout before) cost ~40 µs a step on SQLite (bench/tracing.mjs).
 */
interface RequestManifest {
  format: typeof format;
  base?: string;
  keep?: number;
  messages: unknown[];
  tools?: string;
  options: Omit<LanguageModelV3CallOptions, 'prompt' | 'tools' | 'abortSignal' | 'headers'>;
}

/** The layout of formatByHash, still read. */
interface HashedManifest {
  format: typeof formatByHash;
  base?: string;
  keep?: number;
  prompt: string[];
  tools?: string;
  options: RequestManifest['options'];
}

/** Requests chained on a base before one lists its whole prompt again. */
const maxChain = 32;

/** The thread's previous stored request, as the next one may extend it. */
export interface PreviousRequest {
  ref: string;
  /** Its messages' stored texts (compared by value; the same string objects while the builder keeps its messages). */
  texts: string[];
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
 * Each message's stored text, made once per message object: a thread's context builder keeps its
 * message objects from step to step (and a release its tool specs), so a step serializes only
 * what is new, not its whole context again (a step must cost the same on a long thread).
 * The builder appends tool calls to an assistant message in place (render-context.ts
 * ToolTurn.addCall, push only), so its cached text is kept with its part count and redone when it grew.
 */
const textOf = new WeakMap<object, { text: string; bytes: number; parts: number; scrub: Scrub | undefined }>();
const toolsBlobOf = new WeakMap<object, { blob: NewBlob; scrub: Scrub | undefined }>();

/** Secrets out of a blob's text (config/redact.ts scrubText), as the events are scrubbed before they are written. */
export type Scrub = (text: string) => string;

function serialize(value: unknown, scrub: Scrub | undefined): string {
  const text = JSON.stringify(value) ?? 'null';
  return scrub ? scrub(text) : text;
}

function cachedText(value: object, scrub: Scrub | undefined): { text: string; bytes: number } {
  // An assistant message only ever grows (parts pushed, none edited): its part count tells a stale text.
  const parts = (value as { role?: string }).role === 'assistant' ? ((value as { content?: unknown[] }).content?.length ?? 0) : -1;
  const cached = textOf.get(value);
  if (cached && cached.parts === parts && cached.scrub === scrub) return cached;
  const text = serialize(value, scrub);
  const made = { text, bytes: Buffer.byteLength(text), parts, scrub };
  textOf.set(value, made);
  return made;
}

function toolsBlob(tools: object, scrub: Scrub | undefined): NewBlob {
  const cached = toolsBlobOf.get(tools);
  if (cached && cached.scrub === scrub) return cached.blob;
  const blob = blobOfText(serialize(tools, scrub));
  toolsBlobOf.set(tools, { blob, scrub });
  return blob;
}

/** The request as blobs. `bytes`: the request's size as JSON (its parts' sizes summed). */
export function recordRequest(request: LanguageModelV3CallOptions, scrub?: Scrub, previous?: PreviousRequest): RecordedRequest {
  const { prompt, tools, abortSignal: _signal, headers: _headers, ...options } = request;
  const texts: string[] = [];
  let bytes = 0;
  for (const message of prompt) {
    const made = cachedText(message, scrub);
    texts.push(made.text);
    bytes += made.bytes;
  }
  let kept = 0;
  if (previous && previous.depth < maxChain) {
    while (kept < texts.length && kept < previous.texts.length && texts[kept] === previous.texts[kept]) kept++;
  }
  const blobs: NewBlob[] = [];
  let toolsRef: string | undefined;
  if (tools) {
    const blob = toolsBlob(tools, scrub);
    blobs.push(blob);
    bytes += blob.bytes;
    toolsRef = blob.hash;
  }
  const optionsText = serialize(options, scrub);
  bytes += Buffer.byteLength(optionsText);
  // Written by hand so the messages' texts are not serialized (nor scrubbed) again; the key order is RequestManifest's.
  const head =
    `{"format":"${format}"` +
    (kept > 0 ? `,"base":"${previous!.ref}","keep":${kept}` : '') +
    `,"messages":[${(kept > 0 ? texts.slice(kept) : texts).join(',')}]` +
    (toolsRef ? `,"tools":"${toolsRef}"` : '') +
    `,"options":${optionsText}}`;
  const manifest = blobOfText(head);
  blobs.push(manifest);
  const next = { ref: manifest.hash, texts, depth: kept > 0 ? previous!.depth + 1 : 0 };
  return { request: { ref: manifest.hash, bytes }, blobs, next };
}

/** One message of a stored prompt: inline, or by hash (requests stored before they were inlined). */
type PromptPart = { value: unknown } | { hash: string };

/** A stored request's whole prompt, following its bases. */
async function promptOf(store: BlobReader, ref: string, depth = 0): Promise<{ manifest: RequestManifest | HashedManifest; prompt: PromptPart[] } | undefined> {
  const head = await store.getBlob(ref);
  if (!head) return undefined;
  const manifest = JSON.parse(head.data) as RequestManifest | HashedManifest;
  let own: PromptPart[];
  if (manifest.format === format) own = manifest.messages.map((value) => ({ value }));
  else if (manifest.format === formatByHash) own = manifest.prompt.map((hash) => ({ hash }));
  else throw new Error(`blob ${ref} is not a stored request (format ${String((manifest as { format?: unknown }).format)})`);
  if (!manifest.base) return { manifest, prompt: own };
  if (depth > maxChain * 2) throw new Error(`request ${ref}: more than ${maxChain * 2} bases to follow; the stored requests are damaged`);
  const base = await promptOf(store, manifest.base, depth + 1);
  if (!base) throw new Error(`request ${ref}: its base ${manifest.base} is missing from the blob store`);
  return { manifest, prompt: [...base.prompt.slice(0, manifest.keep ?? 0), ...own] };
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
  const hashes = prompt.flatMap((part) => ('hash' in part ? [part.hash] : []));
  const wanted = [...new Set([...hashes, ...(manifest.tools ? [manifest.tools] : [])])];
  const parts = wanted.length ? new Map((await store.getBlobs(wanted)).map((blob) => [blob.hash, JSON.parse(blob.data) as unknown])) : new Map<string, unknown>();
  const part = (hash: string) => {
    if (!parts.has(hash)) throw new Error(`request ${ref}: part ${hash} is missing from the blob store`);
    return parts.get(hash);
  };
  const request = { ...manifest.options, prompt: prompt.map((p) => ('hash' in p ? part(p.hash) : p.value)) } as LanguageModelV3CallOptions;
  if (manifest.tools) request.tools = part(manifest.tools) as LanguageModelV3CallOptions['tools'];
  return request;
}

/** The one-blob alternative, kept for the bench's comparison only. */
export function wholeRequestBlob(request: LanguageModelV3CallOptions): NewBlob {
  return blobOfText(JSON.stringify(request));
}
