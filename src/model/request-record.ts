/**
 * The exact request a model step sent (the AI SDK call options: prompt messages, tools and
 * their JSON schemas, tool choice, response format, settings), kept as blobs so an audit shows
 * what the model saw even after the rendering code changed.
 *
 * Layout: a stored request holds the messages new since the thread's previous request and names
 * that request as its base (tools, the same every step, are one blob). Consecutive steps of a
 * thread resend every earlier message, so storing each whole request grows with the square of
 * the thread's length; chained, it grows with what is new (bench/request-blobs.mjs has the figures).
 */
import type { LanguageModelV3CallOptions } from '@ai-sdk/provider';
import { sha256Hex } from '../util/sha256.js';
import { blobOfText, type BlobRef, type NewBlob } from '../blobs/blob.js';

/** Requests stored as blobs, each message a blob of its own listed by hash (before 2026-12-02). */
const formatByHash = 'twelve.request/1';
/** Requests stored as blobs with the new messages inline, the base named by its blob hash (2026-12-02). */
const formatByRef = 'twelve.request/2';
/** The current layout: kept with its event (events.request), the base named by its event's seq. */
const format = 'twelve.request/3';

/**
 * A stored request: the call options with the tools replaced by their blob's hash. With `base`,
 * it extends the thread's previous request (the one kept with event `base` of the same thread):
 * the prompt is the base's first `keep` messages, then `messages` — so a step writes what is new,
 * not the whole list again (a thread's context is mostly append-only). Every `maxChain`-th request
 * lists its whole prompt, which bounds what reading one back costs.
 *
 * It is kept in its event's own row (Store AppendExtras.request): written where the event is, with
 * no random-key row of its own (blob rows were a third of an append's cost on SQLite,
 * bench/tracing.mjs), and deleted with its thread by twelve prune. The tools, the same for every
 * step of a release, are one content-addressed blob, stored once.
 */
interface RequestManifest {
  format: typeof format;
  base?: number;
  keep?: number;
  messages: unknown[];
  tools?: string;
  options: Omit<LanguageModelV3CallOptions, 'prompt' | 'tools' | 'abortSignal' | 'headers'>;
}

/** The earlier blob layouts, still read. */
type BlobManifest = (
  | { format: typeof formatByHash; prompt: string[] }
  | { format: typeof formatByRef; messages: unknown[] }
) & { base?: string; keep?: number; tools?: string; options: RequestManifest['options'] };

/** Requests chained on a base before one lists its whole prompt again. */
const maxChain = 32;

/** The thread's previous stored request, as the next one may extend it. */
export interface PreviousRequest {
  /** The seq of the event it is kept with. */
  seq: number;
  /** Its messages' stored texts (compared by value; the same string objects while the builder keeps its messages). */
  texts: string[];
  /** How many bases reading it back follows. */
  depth: number;
}

export interface RecordedRequest {
  /** What model_called.request carries: the sha256 of `text`, and the request's size. */
  request: BlobRef;
  /** The request as stored with its event (AppendExtras.request). */
  text: string;
  /** Blobs to store with the event (the tools; the store keeps one copy of each). */
  blobs: NewBlob[];
  /** What the next request of the thread may extend, once this one is stored with event `seq`. */
  next: (seq: number) => PreviousRequest;
  /**
   * The index of the first message of the previous request this one does not repeat, when some
   * earlier message changed or went away (a provider's prompt cache then holds nothing past it);
   * undefined when this request starts with the whole previous one, or there was none.
   */
  changedAt?: number;
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

/** Secrets out of a stored text (config/redact.ts scrubText), as the events are scrubbed before they are written. */
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

/** The request as stored. `bytes`: the request's size as JSON (its parts' sizes summed). */
export function recordRequest(request: LanguageModelV3CallOptions, scrub?: Scrub, previous?: PreviousRequest): RecordedRequest {
  const { prompt, tools, abortSignal: _signal, headers: _headers, ...options } = request;
  const texts: string[] = [];
  let bytes = 0;
  for (const message of prompt) {
    const made = cachedText(message, scrub);
    texts.push(made.text);
    bytes += made.bytes;
  }
  let same = 0;
  if (previous) while (same < texts.length && same < previous.texts.length && texts[same] === previous.texts[same]) same++;
  // Every maxChain-th request lists its whole prompt (no base), however much it repeats.
  const kept = previous && previous.depth < maxChain ? same : 0;
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
  const text =
    `{"format":"${format}"` +
    (kept > 0 ? `,"base":${previous!.seq},"keep":${kept}` : '') +
    `,"messages":[${(kept > 0 ? texts.slice(kept) : texts).join(',')}]` +
    (toolsRef ? `,"tools":"${toolsRef}"` : '') +
    `,"options":${optionsText}}`;
  const ref = `sha256:${sha256Hex(text)}`;
  const depth = kept > 0 ? previous!.depth + 1 : 0;
  const changedAt = previous && same < previous.texts.length ? same : undefined;
  return { request: { ref, bytes }, text, blobs, next: (seq) => ({ seq, texts, depth }), ...(changedAt === undefined ? {} : { changedAt }) };
}

/** Where a stored request is read from: the event rows, and the blobs. */
export interface RequestReader {
  getBlob(hash: string): Promise<{ data: string } | undefined>;
  getBlobs(hashes: string[]): Promise<Array<{ hash: string; data: string }>>;
  loadRequests(threadId: string, upToSeq: number, limit?: number): Promise<Array<{ seq: number; text: string }>>;
}

/** Where a model step's request is: the event that carries it. */
export interface RequestAt {
  threadId: string;
  seq: number;
  /** The event's request.ref: the stored request must hash to it. */
  ref: string;
}

/** One message of a stored prompt: inline, or by hash (the first blob layout). */
type PromptPart = { value: unknown } | { hash: string };

function sha256Ref(text: string): string {
  return `sha256:${sha256Hex(text)}`;
}

/** A request kept with its event, and its whole prompt, following its bases among the thread's requests. */
async function promptAt(store: RequestReader, at: RequestAt): Promise<{ manifest: RequestManifest; prompt: PromptPart[] } | undefined> {
  // A request and every base it extends are among the thread's 33 newest requests up to it.
  const rows = await store.loadRequests(at.threadId, at.seq, maxChain + 1);
  const bySeq = new Map(rows.map((row) => [row.seq, row.text]));
  const own = bySeq.get(at.seq);
  if (own === undefined) return undefined;
  if (sha256Ref(own) !== at.ref) throw new Error(`the request kept with seq ${at.seq} does not hash to ${at.ref}: it was changed after it was written`);
  const chain: RequestManifest[] = [];
  let seq: number | undefined = at.seq;
  while (seq !== undefined) {
    const text = bySeq.get(seq);
    if (text === undefined) throw new Error(`request of seq ${at.seq}: its base, the request of seq ${seq}, is missing`);
    const manifest = JSON.parse(text) as RequestManifest;
    if (manifest.format !== format) throw new Error(`the request kept with seq ${seq} has an unknown format (${String(manifest.format)})`);
    chain.push(manifest);
    if (chain.length > maxChain + 1) throw new Error(`request of seq ${at.seq}: more than ${maxChain} bases to follow; the stored requests are damaged`);
    seq = manifest.base;
  }
  let prompt: PromptPart[] = [];
  for (const manifest of chain.reverse()) prompt = [...prompt.slice(0, manifest.keep ?? 0), ...manifest.messages.map((value) => ({ value }))];
  return { manifest: chain[chain.length - 1]!, prompt };
}

/** A request stored as blobs (the earlier layouts), and its whole prompt, following its bases. */
async function promptOfBlob(store: RequestReader, ref: string, depth = 0): Promise<{ manifest: BlobManifest; prompt: PromptPart[] } | undefined> {
  const head = await store.getBlob(ref);
  if (!head) return undefined;
  const manifest = JSON.parse(head.data) as BlobManifest;
  let own: PromptPart[];
  if (manifest.format === formatByRef) own = manifest.messages.map((value) => ({ value }));
  else if (manifest.format === formatByHash) own = manifest.prompt.map((hash) => ({ hash }));
  else throw new Error(`blob ${ref} is not a stored request (format ${String((manifest as { format?: unknown }).format)})`);
  if (!manifest.base) return { manifest, prompt: own };
  if (depth > maxChain * 2) throw new Error(`request ${ref}: more than ${maxChain * 2} bases to follow; the stored requests are damaged`);
  const base = await promptOfBlob(store, manifest.base, depth + 1);
  if (!base) throw new Error(`request ${ref}: its base ${manifest.base} is missing from the blob store`);
  return { manifest, prompt: [...base.prompt.slice(0, manifest.keep ?? 0), ...own] };
}

/** The request a model step sent, put back together; undefined when it was not stored. */
export async function loadRequest(store: RequestReader, at: RequestAt): Promise<LanguageModelV3CallOptions | undefined> {
  const found = (await promptAt(store, at)) ?? (await promptOfBlob(store, at.ref));
  if (!found) return undefined;
  const { manifest, prompt } = found;
  const hashes = prompt.flatMap((part) => ('hash' in part ? [part.hash] : []));
  const wanted = [...new Set([...hashes, ...(manifest.tools ? [manifest.tools] : [])])];
  const parts = wanted.length ? new Map((await store.getBlobs(wanted)).map((blob) => [blob.hash, JSON.parse(blob.data) as unknown])) : new Map<string, unknown>();
  const part = (hash: string) => {
    if (!parts.has(hash)) throw new Error(`request ${at.ref}: part ${hash} is missing from the blob store`);
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
