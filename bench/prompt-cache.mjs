#!/usr/bin/env node
// Prompt caching (issue 13): how cache-friendly the requests Twelve sends are, and what caching
// saves at the published prices.
//   prefix stability  every model call of the example threads (each sample of refunds,
//                     email-classifier and triage, run offline from their recordings through
//                     `twelve run`, the large refund approved) and of a 20-step support thread:
//                     of the thread's previous request (tools, response format, then messages:
//                     the order providers cache in), the share this request repeats byte for
//                     byte at its start ("kept", 100% = nothing earlier changed), and the share
//                     of this request that repeated prefix is ("of request": what a provider
//                     can bill at its cached rate). Target: kept >= 95% from the second call on.
//   cost              one refunds thread (sample-request) and the 20-step thread, priced by
//                     Twelve's PriceTable at the built-in published rates, without caching and
//                     with it: OpenAI gpt-4o (automatic prefix caching) and Anthropic Claude
//                     Sonnet 4.5 (the breakpoints Twelve marks: model/prompt-cache.ts), with
//                     each provider's cache rules modelled in lib/provider-cache.mjs over the
//                     requests Twelve recorded (read back from the store with loadRequest).
//
// Usage: node bench/prompt-cache.mjs [--steps 20]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { z } from '../node_modules/zod/index.js';
import { createRuntime, defineAgent, defineTool, openStore, scriptedModel } from '../dist/index.js';
import { PriceTable } from '../dist/model/prices.js';
import { loadRequest } from '../dist/model/request-record.js';
import { countInputTokens, countTextTokens } from '../dist/model/estimate.js';
import { withPromptCache } from '../dist/model/prompt-cache.js';
import { anthropicUsage, head, openaiUsage, sharedMessages } from './lib/provider-cache.mjs';
import { percentile, printRows } from './lib/table.mjs';

const { values: opts } = parseArgs({ options: { steps: { type: 'string', default: '20' } } });
const root = fileURLToPath(new URL('..', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'twelve-bench-cache-'));
const prices = new PriceTable();
const openai = 'openai:gpt-4o-2024-08-06';
const anthropic = 'anthropic:claude-sonnet-4-5-20250929';

try {
  const examples = await exampleThreads();
  const support = await supportThread(Number(opts.steps));
  const conversation = await conversationThread(30, 8);

  console.log('prefix stability: each model call after the first of its thread, against the previous request\n');
  const rows = [];
  for (const [name, threads] of [...groupBy(examples, (t) => t.agent), ['support (20 steps)', [support]], ['conversation (30 turns)', [conversation]]]) {
    const kept = [];
    const ofRequest = [];
    for (const thread of threads) {
      for (let i = 1; i < thread.requests.length; i++) {
        const share = prefixShare(thread.requests[i - 1], thread.requests[i]);
        kept.push(share.kept);
        ofRequest.push(share.ofRequest);
      }
    }
    if (kept.length === 0) {
      rows.push([name, String(threads.length), '0', '-', '-', '-', '-']);
      continue;
    }
    rows.push([
      name,
      String(threads.length),
      String(kept.length),
      pct(Math.min(...kept)),
      `${kept.filter((k) => k >= 0.95).length}/${kept.length}`,
      pct(percentile(ofRequest, 50)),
      pct(Math.min(...ofRequest)),
    ]);
  }
  printRows(['threads of', 'threads', 'calls 2..n', 'kept (min)', 'kept >= 95%', 'of request (median)', 'of request (min)'], rows);

  console.log('\ncost at the published rates (USD), without and with provider prompt caching\n');
  const refunds = examples.find((t) => t.agent === 'refunds' && t.sample === 'sample-request');
  const costRows = [];
  for (const [name, thread] of [['refunds (sample-request)', refunds], [`support (${support.requests.length} steps)`, support]]) {
    for (const model of [openai, anthropic]) {
      const priced = priceThread(model, thread);
      costRows.push([
        name,
        model,
        String(thread.requests.length),
        String(priced.input),
        String(priced.cached),
        String(priced.written),
        `$${priced.without.toFixed(4)}`,
        `$${priced.with.toFixed(4)}`,
        `${((1 - priced.with / priced.without) * 100).toFixed(0)}%`,
      ]);
    }
  }
  printRows(['thread', 'model', 'calls', 'input tok', 'cached', 'written', 'no cache', 'with cache', 'saved'], costRows);
  console.log(
    `\nFirst requests (tools + system prompt + input, o200k tokens): refunds ${countInputTokens(openai, refunds.requests[0])}, support ${countInputTokens(openai, support.requests[0])}.` +
      ' OpenAI caches nothing under 1,024 tokens, so a short refunds thread saves nothing there; Anthropic counts the same text' +
      ' as more tokens (x1.3 and its tool-use prompt) and caches from 1,024, at a write premium that later reads repay.' +
      '\nemail-classifier threads make one call each: nothing to compare. The conversation shows its last 8 turns (maxTurns 8):' +
      ' when they overflow, its window jumps forward by half (thread/context-window.ts), so the requests of those turns keep less; the others keep all.',
  );
} finally {
  rmSync(work, { recursive: true, force: true });
}

/** Of `previous`, the byte share `request` repeats at its start, and that prefix's share of `request`. */
function prefixShare(previous, request) {
  const bytes = (r, n) => Buffer.byteLength(head(r)) + r.prompt.slice(0, n).reduce((sum, m) => sum + Buffer.byteLength(JSON.stringify(m)), 0);
  const shared = sharedMessages(previous, request);
  const common = shared > 0 || head(previous) === head(request) ? bytes(request, shared) : 0;
  return { kept: common / bytes(previous, previous.prompt.length), ofRequest: common / bytes(request, request.prompt.length) };
}

/** A thread's calls priced at `model`'s rates: every input token at the input rate, and with the provider's cache. */
function priceThread(model, thread) {
  const written = new Set();
  let previous;
  const total = { input: 0, cached: 0, written: 0, without: 0, with: 0 };
  for (const [index, request] of thread.requests.entries()) {
    const outputTokens = thread.outputTokens[index];
    let usage;
    if (model.startsWith('anthropic:')) {
      const sent = withPromptCache({ request, model, cache: 'auto', cacheKey: 'bench' });
      const breakpoints = sent.prompt.flatMap((message, i) => (message.providerOptions?.anthropic?.cacheControl ? [i + 1] : []));
      usage = anthropicUsage(model, request, breakpoints, written);
    } else {
      usage = openaiUsage(model, previous, request);
    }
    previous = request;
    total.input += usage.inputTokens;
    total.cached += usage.cachedInputTokens;
    total.written += usage.cacheWriteTokens;
    total.without += prices.cost(model, { inputTokens: usage.inputTokens, outputTokens });
    total.with += prices.cost(model, { ...usage, outputTokens });
  }
  return total;
}


/** Every example sample, run offline through the CLI, then read back: requests and output tokens per model call. */
async function exampleThreads() {
  const database = join(work, 'examples.db');
  const env = { ...process.env, TWELVE_DATABASE_URL: `sqlite:${database}`, TWELVE_MODEL_MODE: 'replay', TWELVE_LOG: 'off', TWELVE_HUMANS: 'bench@example.com=finance' };
  const samples = [
    ['refunds', 'sample-request'],
    ['refunds', 'sample-late'],
    ['refunds', 'sample-large'],
    ['refunds', 'sample-digital'],
    ['refunds', 'sample-shipped'],
    ['email-classifier', 'sample-email'],
    ['email-classifier', 'sample-login'],
    ['email-classifier', 'sample-other'],
    ['email-classifier', 'sample-password'],
    ['triage', 'sample-refund'],
    ['triage', 'sample-question'],
  ];
  const cli = (args) => execFileSync(process.execPath, ['bin/twelve.js', ...args], { cwd: root, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const launched = [];
  for (const [agent, sample] of samples) {
    let out;
    try {
      out = cli(['run', agent, '--input', `@examples/${agent}/${sample}.txt`]);
    } catch (error) {
      // A thread that waits for a person exits non-zero (the large refund waits for approval): approve it, run it on.
      out = String(error.stdout);
      const id = out.split(/\s+/)[0];
      cli(['approve', id, '--as', 'bench@example.com']);
      cli(['resume', id]);
    }
    launched.push({ id: out.split(/\s+/)[0], agent, sample });
  }
  const store = await openStore(`sqlite:${database}`);
  try {
    const threads = [];
    // Children (the triage's refunds) are threads of their own, with their own requests.
    for (const record of await store.listThreads({ limit: 1000 })) {
      const found = launched.find((l) => l.id === record.id);
      threads.push({ agent: record.agent, sample: found?.sample ?? `child of ${record.parentThreadId}`, ...(await requestsOf(store, record.id)) });
    }
    return threads;
  } finally {
    await store.close();
  }
}

/** The requests a thread's model calls sent (in order), and each call's output tokens. */
async function requestsOf(store, threadId) {
  const requests = [];
  const outputTokens = [];
  const events = await store.loadEvents(threadId);
  for (const event of events) {
    if (event.type !== 'model_called' || !event.data.request) continue;
    requests.push(await loadRequest(store, { threadId, seq: event.seq, ref: event.data.request.ref }));
    outputTokens.push(event.data.usage.outputTokens);
  }
  return { requests, outputTokens };
}

/**
 * A support agent with a production-sized policy prompt (~2.4k tokens with its tools) working a case for
 * `steps` model calls: alternately looking up orders and knowledge-base articles (results of
 * ~250-400 tokens each), then answering. The scripted model reports output tokens the size of
 * what it says.
 */
async function supportThread(steps) {
  const policy = Array.from({ length: 40 }, (_, i) => {
    const area = ['shipping', 'returns', 'warranty', 'billing', 'accounts'][i % 5];
    return `${i + 1}. (${area}) When a customer writes about ${area} case type ${i + 1}, check the order history first, quote the policy section ${area}-${i + 1} verbatim, and never promise a date the carrier has not confirmed; escalate to a person when the amount is above ${(i + 1) * 25} EUR.`;
  }).join('\n');
  const lookupOrder = defineTool({
    name: 'lookup_order',
    description: 'Look up one order by id: items, amounts, shipping events.',
    input: z.object({ orderId: z.string() }),
    effect: 'pure',
    run: async ({ orderId }) => ({
      orderId,
      status: 'delivered',
      items: Array.from({ length: 6 }, (_, i) => ({ sku: `SKU-${orderId}-${i}`, name: `Item ${i} of order ${orderId}`, priceCents: 1999 + i * 350, quantity: 1 + (i % 2) })),
      events: Array.from({ length: 5 }, (_, i) => ({ at: `2026-11-${String(10 + i).padStart(2, '0')}T09:00:00Z`, what: `shipping event ${i} for ${orderId}: parcel scanned at depot ${i}` })),
    }),
  });
  const searchKb = defineTool({
    name: 'search_kb',
    description: 'Search the knowledge base; returns the best article.',
    input: z.object({ query: z.string() }),
    effect: 'pure',
    run: async ({ query }) => ({
      title: `How to handle: ${query}`,
      body: Array.from({ length: 8 }, (_, i) => `Paragraph ${i + 1} about ${query}: follow the documented procedure, record what the customer said, and confirm the outcome in writing within two working days.`).join(' '),
    }),
  });
  const agent = defineAgent({
    name: 'support',
    purpose: 'Work one customer support case to an answer.',
    model: openai,
    prompt: { text: `You are the support desk of an online store. Follow these rules:\n${policy}\n\nTools:\n{{tools}}` },
    tools: [lookupOrder, searchKb],
    limits: { maxSteps: steps + 1 },
  });
  const model = scriptedModel((request) => {
    const results = request.prompt.filter((m) => m.role === 'tool').length;
    if (results >= steps - 1) {
      const text = `The case is resolved after ${results} lookups: the refund was approved under rule 12 and the customer was told.`;
      return { text, usage: { inputTokens: 0, outputTokens: countTextTokens(text) } };
    }
    const call = results % 2 === 0 ? { tool: 'lookup_order', args: { orderId: `A-${1000 + results}` } } : { tool: 'search_kb', args: { query: `case ${results}: late delivery with damaged item` } };
    return { toolCalls: [{ ...call, callId: `call_${results}` }], usage: { inputTokens: 0, outputTokens: countTextTokens(JSON.stringify(call.args)) + 10 } };
  });
  const runtime = createRuntime({ agents: [agent], models: { [openai]: model }, env: { TWELVE_DATABASE_URL: `sqlite:${join(work, 'support.db')}`, TWELVE_LOG: 'off' } });
  try {
    const thread = await runtime.launch({ agent: 'support', input: 'Order A-1000 arrived late and one item is broken. I want my money back. Sam' });
    const run = await runtime.runThread(thread.id);
    if (run.outcome !== 'completed') throw new Error(`the support thread ended ${run.outcome}`);
    return { agent: 'support', sample: 'support', ...(await requestsOf(runtime.store, thread.id)) };
  } finally {
    await runtime.close();
  }
}

/** A conversation of `turns` user messages on an agent that shows the model its last `maxTurns` turns. */
async function conversationThread(turns, maxTurns) {
  const agent = defineAgent({
    name: 'chat',
    purpose: 'Chat about one order.',
    model: openai,
    prompt: { text: 'You answer questions about the customer order in the first message. Be brief.' },
    limits: { maxTurns },
  });
  const model = scriptedModel((request) => ({ text: `Answer ${request.prompt.filter((m) => m.role === 'user').length}: the order ships on Monday from the Berlin warehouse.` }));
  const runtime = createRuntime({ agents: [agent], models: { [openai]: model }, env: { TWELVE_DATABASE_URL: `sqlite:${join(work, 'chat.db')}`, TWELVE_LOG: 'off' } });
  try {
    const thread = await runtime.launch({ agent: 'chat', input: 'Order A-1000: a desk lamp and two shelves.' });
    await runtime.runThread(thread.id);
    for (let turn = 2; turn <= turns; turn++) {
      await runtime.say(thread.id, { by: 'customer', text: `Question ${turn}: and what about the shelves, item ${turn}?` });
      const run = await runtime.runThread(thread.id);
      if (run.outcome !== 'completed') throw new Error(`the conversation ended ${run.outcome} at turn ${turn}`);
    }
    return { agent: 'chat', sample: 'chat', ...(await requestsOf(runtime.store, thread.id)) };
  } finally {
    await runtime.close();
  }
}

function groupBy(items, key) {
  const groups = new Map();
  for (const item of items) groups.set(key(item), [...(groups.get(key(item)) ?? []), item]);
  return [...groups];
}

function pct(x) {
  return `${(x * 100).toFixed(1)}%`;
}
