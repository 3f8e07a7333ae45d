#!/usr/bin/env node
// What storing "what the model saw" costs the database, per model step, for the two
// layouts considered (src/model/request-record.ts):
//   whole    one blob per request: each step stores its whole request again, and a
//            step's request holds every earlier message, so a thread's total grows with
//            the square of its length
//   chained  (chosen) a request names the thread's previous request as its base, how many
//            of its messages come first, and holds only the new ones inline; the tools are
//            one more blob, stored once: a step writes one blob row
// (An earlier layout stored each message as a blob of its own under a manifest of hashes:
// three random-key rows a step, ~40 µs a step on SQLite; the chained one writes one.)
// A thread of N tool steps is simulated with the real functions (recordRequest and
// wholeRequestBlob from dist/): a 2 KB system prompt, 3 tools with schemas (~1.5 KB),
// then per step a tool call and a ~1 KB tool result. Printed: blob bytes stored per
// step (median of the thread's steps) and in total, with the event bytes of the same
// steps (model_called + tool events) for scale.
//
// Usage: node request-blobs.mjs [--steps 10,30,100]
import { parseArgs } from 'node:util';
import { recordRequest, wholeRequestBlob } from '../dist/model/request-record.js';
import { printRows } from './lib/table.mjs';

const { values } = parseArgs({ options: { steps: { type: 'string', default: '10,30,100' } } });
const lengths = values.steps.split(',').map(Number);

const system = { role: 'system', content: `You help with orders. ${'Policy line about refunds and orders. '.repeat(55)}` };
const tools = ['lookup_order', 'issue_refund', 'notify_customer'].map((name) => ({
  type: 'function',
  name,
  description: `${name.replace('_', ' ')}: ${'does the thing carefully. '.repeat(6)}`,
  inputSchema: { type: 'object', properties: { orderId: { type: 'string', pattern: '^[A-Z]-\\d{4}$' }, amountCents: { type: 'integer', minimum: 0 }, reason: { type: 'string' } }, required: ['orderId'], additionalProperties: false },
}));

function simulate(steps) {
  const prompt = [system, { role: 'user', content: [{ type: 'text', text: 'Refund order A-1001, the parcel arrived broken.' }] }];
  const seenWhole = new Set();
  const seenChained = new Set();
  const whole = [];
  const chained = [];
  const rows = [];
  let previous;
  let eventBytes = 0;
  for (let step = 1; step <= steps; step++) {
    const request = { prompt: [...prompt], tools, toolChoice: { type: 'auto' }, temperature: 0 };
    const one = wholeRequestBlob(request);
    whole.push(seenWhole.has(one.hash) ? 0 : one.bytes);
    seenWhole.add(one.hash);
    // As Twelve stores them: each request names the thread's previous one and adds its new messages.
    const recorded = recordRequest(request, undefined, previous);
    let addedChained = 0;
    let addedRows = 0;
    for (const blob of recorded.blobs) if (!seenChained.has(blob.hash)) (seenChained.add(blob.hash), (addedChained += blob.bytes), addedRows++);
    chained.push(addedChained);
    rows.push(addedRows);
    previous = recorded.next;
    const callId = `call_${step}`;
    const result = { orderId: 'A-1001', step, lines: Array.from({ length: 12 }, (_, i) => ({ sku: `SKU-${step}-${i}`, qty: 1, cents: 1299 })) };
    prompt.push({ role: 'assistant', content: [{ type: 'tool-call', toolCallId: callId, toolName: 'lookup_order', input: { orderId: 'A-1001' } }] });
    prompt.push({ role: 'tool', content: [{ type: 'tool-result', toolCallId: callId, toolName: 'lookup_order', output: { type: 'json', value: result } }] });
    eventBytes += JSON.stringify({ model: 'openai:gpt-4o', attempt: 1, fallbackIndex: 0, latencyMs: 812.3, usage: { inputTokens: 900, outputTokens: 30 }, costUsd: 0.0021, text: '', toolCalls: [{ callId, tool: 'lookup_order' }], finishReason: 'tool-calls', contextMessages: prompt.length - 2, request: { ref: `sha256:${'0'.repeat(64)}`, bytes: 1 } }).length;
    eventBytes += JSON.stringify({ callId, tool: 'lookup_order', args: { orderId: 'A-1001' }, source: 'model' }).length + JSON.stringify({ callId, result, durationMs: 3.2 }).length;
  }
  return { whole, chained, rows, eventBytes };
}

const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const sum = (xs) => xs.reduce((a, b) => a + b, 0);
const table = [['steps', 'whole: per step', 'whole: total', 'chained: per step', 'chained: total', 'chained: blob rows', 'events (same steps)']];
for (const steps of lengths) {
  const { whole, chained, rows, eventBytes } = simulate(steps);
  table.push([String(steps), kb(median(whole)), kb(sum(whole)), kb(median(chained)), kb(sum(chained)), String(sum(rows)), kb(eventBytes)]);
}
printRows(table[0], table.slice(1));
