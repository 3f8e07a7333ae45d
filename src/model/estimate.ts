/**
 * Pre-call estimates for hard budgets. Before every model call Twelve checks the
 * recorded spend PLUS the call's worst case: input tokens counted here, output taken
 * as the call's max output tokens (defaultMaxOutputTokens when the agent sets none).
 *
 * Counting uses OpenAI's o200k_base encoding (js-tiktoken), loaded lazily on first use
 * so a process that never checks a budget never pays for it. Loading is synchronous
 * (createRequire of the package's CommonJS build) and costs, once per process, ~0.55 s
 * of CPU and ~70 MB of heap (~155 MB RSS): the rank table has 200k entries (measured on
 * the 2-core dev machine, Node 20).
 *
 * What is counted, the way the providers serialise it:
 *   - every message: OpenAI's documented chat overhead (3 tokens per message plus the
 *     role, i.e. 4), its text parts, reasoning parts, tool calls (name + arguments as
 *     JSON text + a small framing allowance) and tool results (text as is, JSON values
 *     as JSON text, as @ai-sdk/openai sends them). OpenAI turns each tool result into a
 *     message of its own, so each result pays the per-message overhead;
 *   - +3 for the reply priming (<|start|>assistant<|message|>);
 *   - each function tool: name + description + JSON schema text, plus the cookbook's
 *     per-function (7) and per-request (12) framing;
 *   - the response format's JSON schema (+ name and description).
 *
 * Accuracy, measured against the counts the OpenAI API itself returned in OpenAI's
 * cookbook ("How to count tokens with tiktoken", gpt-4o-2024-08-06 / gpt-4o-mini):
 *   - plain messages: exact (the cookbook's 6-message example: 124 tokens, reproduced
 *     by the test "matches the OpenAI-verified message arithmetic");
 *   - tools: an over-estimate. OpenAI renders a schema as TypeScript-like text, which
 *     is shorter than the JSON we count: the cookbook's one-tool weather example is
 *     101 tokens by the API, 122 here (+21 tokens, ~20 per small tool). Over is the
 *     safe side for a budget check, and the error is a fixed amount per tool, not
 *     proportional to the conversation;
 *   - tool-call framing and structured-output framing are undocumented: small fixed
 *     allowances, erring high.
 *
 * Other providers are an APPROXIMATION: the same o200k count times a safety factor
 * (tokenizerSafetyFactor). Claude's tokenizer is not public; published comparisons of
 * Claude 3.5 Sonnet against GPT-4o found ~16% more tokens for English prose, ~21% for
 * maths and ~30% for Python code, so 1.3 covers code- and JSON-heavy agent prompts
 * (prose comes out ~12% high). With tools, Anthropic also injects a tool-use system
 * prompt of up to 346 tokens (its docs), added after the factor. OpenAI-compatible
 * servers run unknown models and chat templates: same 1.3, a guess. Scripted models
 * have no tokenizer at all: factor 1.
 *
 * Speed (Node 20, this 2-core machine, tokenizer loaded; a thread of system, user,
 * assistant-with-tool-call and JSON tool-result messages, one tool):
 *   - 50 messages, ~22 KB: 3.2 ms the first time; 0.02 ms again with the same message
 *     objects; 0.06 ms for the next step (same objects + one new message);
 *   - 1,000 messages, ~435 KB (~63k tokens): 62 ms the first time; 0.2-0.5 ms again;
 *     0.1-0.2 ms for the next step. A worker holding a thread pays each message once.
 *   - pathological input: js-tiktoken's byte-pair merge is quadratic in the length of
 *     one pre-token (10,000 repeated letters or spaces take 5 s, 50,000 take 2 minutes),
 *     so runs of more than 64 letters, spaces or symbols are cut into 32-byte pieces and
 *     counted piecewise: 100 KB of one letter now takes 0.19 s, 20,000 Han characters
 *     with no punctuation 0.12 s. Letter runs stay exact or ~1 token over per piece;
 *     long whitespace / symbol runs over-count (1,000 spaces: 32 instead of 9). Normal
 *     text, base64 and hex have no such runs and are counted exactly (100 KB of base64:
 *     53 ms).
 *
 * Cache: per-message counts are kept in a WeakMap keyed by the message object, since
 * Twelve re-sends the same message objects on every step of a thread. An entry is
 * reused only while `message.content` is the same array (or string) with the same
 * length, so appending a part (the context builder adds tool calls to an assistant
 * message in place) re-counts it; replacing a part in place is not detected: treat
 * counted messages as immutable. Tool definitions and response schemas are cached by
 * object the same way.
 */
import { createRequire } from 'node:module';
import type {
  JSONSchema7,
  LanguageModelV3CallOptions,
  LanguageModelV3FilePart,
  LanguageModelV3FunctionTool,
  LanguageModelV3Message,
  LanguageModelV3ProviderTool,
  LanguageModelV3ToolResultOutput,
} from '@ai-sdk/provider';
import type { Tiktoken, TiktokenBPE } from 'js-tiktoken/lite';
import type { PriceTable } from './prices.js';

/** Worst-case output when neither the agent nor the call sets maxOutputTokens. */
export const defaultMaxOutputTokens = 4096;

/**
 * Multiplier on the o200k count, by provider (the prefix of `provider:model-id`).
 * Anything else, an unknown provider included, gets `fallbackSafetyFactor`.
 */
export const tokenizerSafetyFactor: Readonly<Record<string, number>> = {
  openai: 1,
  anthropic: 1.3,
  'openai-compatible': 1.3,
  scripted: 1,
};
const fallbackSafetyFactor = 1.3;

/** OpenAI chat format: every message is <|start|>{role}<|message|>{content}<|end|>. */
const tokensPerMessage = 3;
/** Every reply is primed with <|start|>assistant<|message|>. */
const replyPriming = 3;
/** Cookbook values for gpt-4o-family function definitions. */
const tokensPerFunction = 7;
const tokensForFunctionsBlock = 12;
/** Undocumented framing of a tool call in an assistant message ("functions.NAME", json, end): a guess. */
const tokensPerToolCall = 6;
/** Undocumented framing of a structured-output schema: a guess. */
const tokensForResponseFormat = 10;
/** Anthropic's tool-use system prompt, worst case in its docs' table (auto / none choice). */
const anthropicToolSystemPrompt = 346;

/** Runs of one character class longer than this are counted in pieces (see the header)... */
const maxRun = 64;
/** ...of at most this many UTF-8 bytes: the merge's cost grows with the square of a piece's bytes. */
const pieceBytes = 32;
const longRun = new RegExp(`[\\p{L}\\p{M}]{${maxRun + 1},}|\\s{${maxRun + 1},}|[^\\s\\p{L}\\p{N}]{${maxRun + 1},}`, 'u');
const longRuns = new RegExp(longRun.source, 'gu');

let encoder: Tiktoken | undefined;

function tokenizer(): Tiktoken {
  if (!encoder) {
    const require = createRequire(import.meta.url);
    const { Tiktoken: TiktokenClass } = require('js-tiktoken/lite') as typeof import('js-tiktoken/lite');
    const ranks = require('js-tiktoken/ranks/o200k_base') as TiktokenBPE;
    encoder = new TiktokenClass(ranks);
  }
  return encoder;
}

function encodeLength(text: string): number {
  if (text.length === 0) return 0;
  // No special tokens: "<|endoftext|>" in a user's text is ordinary text, as the APIs treat it.
  return tokenizer().encode(text, [], []).length;
}

/**
 * o200k_base token count of one string, exact for ordinary text. Runs of more than 64
 * letters, spaces or symbols are counted in 32-byte pieces, which can over-count by
 * about one token per piece but keeps the count linear in the text's length.
 */
export function countTextTokens(text: string): number {
  if (text.length === 0) return 0;
  if (!longRun.test(text)) return encodeLength(text);
  let total = 0;
  let start = 0;
  for (const match of text.matchAll(longRuns)) {
    const run = match[0];
    const at = match.index;
    total += encodeLength(text.slice(start, at));
    let piece = 0;
    let bytes = 0;
    for (let i = 0; i < run.length; i++) {
      const code = run.charCodeAt(i);
      // UTF-8 length; a surrogate pair (4 bytes) counts 2 + 2 and is never split.
      bytes += code < 0x80 ? 1 : code < 0x800 || (code >= 0xd800 && code <= 0xdfff) ? 2 : 3;
      const pairStart = code >= 0xd800 && code <= 0xdbff;
      if (bytes >= pieceBytes && !pairStart) {
        total += encodeLength(run.slice(piece, i + 1));
        piece = i + 1;
        bytes = 0;
      }
    }
    total += encodeLength(run.slice(piece));
    start = at + run.length;
  }
  return total + encodeLength(text.slice(start));
}

interface MessageCount {
  /** o200k tokens of the message, overhead included, images excluded. */
  tokens: number;
  /** Image parts, priced per model (imageTokens). */
  images: number;
  content: LanguageModelV3Message['content'];
  length: number;
}

const messageCounts = new WeakMap<object, MessageCount>();
const objectCounts = new WeakMap<object, number>();

function cachedCount<T extends object>(key: T, count: (key: T) => number): number {
  let tokens = objectCounts.get(key);
  if (tokens === undefined) {
    tokens = count(key);
    objectCounts.set(key, tokens);
  }
  return tokens;
}

function json(value: unknown): string {
  if (value === undefined) return '';
  try {
    return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)) ?? '';
  } catch {
    return String(value); // a cycle: a provider would fail to send it anyway
  }
}

/** Tool-call arguments as @ai-sdk/openai sends them: a JSON string as is, anything else stringified. */
function argumentsText(input: unknown): string {
  return typeof input === 'string' ? input : json(input ?? {});
}

function toolOutputText(output: LanguageModelV3ToolResultOutput): string {
  switch (output.type) {
    case 'text':
    case 'error-text':
      return output.value;
    case 'execution-denied':
      return output.reason ?? 'Tool call execution denied.';
    case 'json':
    case 'error-json':
    case 'content':
      return json(output.value);
    default:
      return json(output);
  }
}

/**
 * Non-image files (PDFs): one token per byte, deliberately pessimistic (a page of a text
 * PDF is ~3-10 KB and costs ~1,500-3,000 text tokens plus a page image). A file given by
 * URL has no known size: counted as 10,000.
 */
function fileTokens(part: LanguageModelV3FilePart): number {
  const { data } = part;
  if (data instanceof URL) return 10_000;
  if (typeof data === 'string') return Math.ceil((data.length * 3) / 4);
  return data.byteLength;
}

function countMessage(message: LanguageModelV3Message): MessageCount {
  const role = (r: string) => tokensPerMessage + encodeLength(r);
  let tokens = 0;
  let images = 0;
  if (message.role === 'system') {
    tokens = role('system') + countTextTokens(message.content);
    return { tokens, images, content: message.content, length: message.content.length };
  }
  if (message.role === 'tool') {
    // OpenAI sends each result as its own `tool` message; approvals are not sent.
    for (const part of message.content) {
      if (part.type === 'tool-result') {
        tokens += role('tool') + countTextTokens(part.toolName) + countTextTokens(toolOutputText(part.output));
      } else if (part.reason) {
        tokens += countTextTokens(part.reason);
      }
    }
    return { tokens, images, content: message.content, length: message.content.length };
  }
  tokens = role(message.role);
  for (const part of message.content) {
    switch (part.type) {
      case 'text':
      case 'reasoning':
        tokens += countTextTokens(part.text);
        break;
      case 'file':
        if (part.mediaType.startsWith('image/')) images++;
        else tokens += fileTokens(part);
        break;
      case 'tool-call':
        tokens += tokensPerToolCall + countTextTokens(part.toolName) + countTextTokens(argumentsText(part.input));
        break;
      case 'tool-result':
        tokens += role('tool') + countTextTokens(part.toolName) + countTextTokens(toolOutputText(part.output));
        break;
    }
  }
  return { tokens, images, content: message.content, length: message.content.length };
}

function messageCount(message: LanguageModelV3Message): MessageCount {
  const cached = messageCounts.get(message);
  if (cached && cached.content === message.content && cached.length === message.content.length) return cached;
  const counted = countMessage(message);
  messageCounts.set(message, counted);
  return counted;
}

function toolTokens(tool: LanguageModelV3FunctionTool | LanguageModelV3ProviderTool): number {
  if (tool.type === 'function') {
    return tokensPerFunction + countTextTokens(tool.name) + countTextTokens(tool.description ?? '') + countTextTokens(json(tool.inputSchema));
  }
  // Provider-executed tools (web search...) also bring a provider prompt of unknown size.
  return tokensPerFunction + countTextTokens(tool.name) + countTextTokens(json(tool.args));
}

function schemaTokens(schema: JSONSchema7): number {
  return countTextTokens(json(schema));
}

/**
 * Worst-case tokens of one image (they are billed as input tokens). OpenAI: gpt-4o at
 * high detail is at most 8 tiles (85 + 8 × 170 = 1,445); gpt-4o-mini bills ~33× that
 * (2,833 + 8 × 5,667); the patch-based minis bill 1,536 patches times a multiplier.
 * Claude caps an image at ~1,600 tokens. Figures from the vendors' vision docs.
 */
function imageTokens(provider: string, model: string): number {
  if (provider === 'openai') {
    if (model.startsWith('gpt-4o-mini')) return 2_833 + 8 * 5_667;
    if (model.startsWith('gpt-4.1-mini')) return Math.ceil(1_536 * 1.62);
    if (model.startsWith('gpt-4.1-nano')) return Math.ceil(1_536 * 2.46);
    if (model.startsWith('o4-mini')) return Math.ceil(1_536 * 1.72);
  }
  return 1_600;
}

function splitModelId(modelId: string): { provider: string; model: string } {
  const colon = modelId.indexOf(':');
  return colon < 0 ? { provider: '', model: modelId } : { provider: modelId.slice(0, colon), model: modelId.slice(colon + 1) };
}

/**
 * Input tokens of one call, counted before it is made: exact o200k arithmetic for
 * OpenAI chat models, o200k times a safety factor elsewhere (see the file header).
 * Synchronous; the first call in a process loads the tokenizer (~0.6 s).
 */
export function countInputTokens(modelId: string, request: LanguageModelV3CallOptions): number {
  const { provider, model } = splitModelId(modelId);
  let tokens = replyPriming;
  let images = 0;
  for (const message of request.prompt) {
    const counted = messageCount(message);
    tokens += counted.tokens;
    images += counted.images;
  }
  const tools = request.tools ?? [];
  if (tools.length > 0) {
    tokens += tokensForFunctionsBlock;
    for (const tool of tools) tokens += cachedCount(tool, toolTokens);
  }
  const format = request.responseFormat;
  const hasSchema = format?.type === 'json' && format.schema !== undefined;
  if (format?.type === 'json') {
    if (format.schema !== undefined) tokens += tokensForResponseFormat + cachedCount(format.schema as object, schemaTokens);
    tokens += countTextTokens(format.name ?? '') + countTextTokens(format.description ?? '');
  }
  const factor = tokenizerSafetyFactor[provider] ?? fallbackSafetyFactor;
  let total = Math.ceil(tokens * factor) + images * imageTokens(provider, model);
  if (provider === 'anthropic' && (tools.length > 0 || hasSchema)) total += anthropicToolSystemPrompt;
  return total;
}

export interface CallCostEstimate {
  inputTokens: number;
  /** The worst case: the call's max output tokens. */
  outputTokens: number;
  /** USD, or null when the model has no known price. */
  costUsd: number | null;
}

/** Worst-case cost of one call: counted input plus the full output allowance, at list prices. */
export function estimateCallCost(options: {
  modelId: string;
  inputTokens: number;
  /** The call's cap; defaultMaxOutputTokens when undefined. */
  maxOutputTokens?: number | undefined;
  prices: PriceTable;
}): CallCostEstimate {
  const inputTokens = options.inputTokens;
  const outputTokens = options.maxOutputTokens ?? defaultMaxOutputTokens;
  return { inputTokens, outputTokens, costUsd: options.prices.cost(options.modelId, { inputTokens, outputTokens }) };
}
