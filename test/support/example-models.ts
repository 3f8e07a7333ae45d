/**
 * Scripted stand-ins for the examples' models, used to record the examples' responses
 * (examples/record.ts) and by tests that run the examples against the scripted server.
 */
import type { ScriptStep } from './scripted-openai-server.js';

export type ChatMessage = { role: string; content?: string | null; tool_calls?: Array<{ function: { name: string } }> };

/** Plays the refunds model: look up, then refund or decline by the policy, then answer. */
export function refundsModel(messages: ChatMessage[]): ScriptStep {
  const user = messages.find((m) => m.role === 'user')?.content ?? '';
  const orderId = /A-\d{4}/.exec(user)?.[0] ?? 'A-0000';
  const tools = messages.filter((m) => m.role === 'tool');
  const last = tools[tools.length - 1];
  if (!last) return { toolCalls: [{ name: 'lookup_order', arguments: { orderId } }], usage: { prompt_tokens: 412, completion_tokens: 18 } };
  if (/^rejected:/.test(last.content ?? '')) {
    const answer = { decision: 'declined', orderId, reason: 'A member of our team reviewed this refund and did not approve it; we will contact you about other options.' };
    return { text: JSON.stringify(answer), usage: { prompt_tokens: 590, completion_tokens: 44 } };
  }
  const result = JSON.parse(last.content ?? '{}');
  if ('refundId' in result) {
    const answer = { decision: 'refunded', orderId, amountCents: result.amountCents, refundId: result.refundId, reason: 'Your order arrived damaged, so we refunded the full amount to your original payment method.' };
    return { text: JSON.stringify(answer), usage: { prompt_tokens: 560, completion_tokens: 52 } };
  }
  const order = result as { totalCents: number; status: string; daysSinceDelivery: number | null; digital: boolean };
  const rule =
    order.status !== 'delivered' ? 'the order has not been delivered yet'
    : order.digital ? 'digital items are not refundable'
    : (order.daysSinceDelivery ?? 0) > 30 ? `it was delivered ${order.daysSinceDelivery} days ago, beyond the 30-day refund window`
    : undefined;
  if (rule) {
    const answer = { decision: 'declined', orderId, reason: `We can't refund this order because ${rule}.` };
    return { text: JSON.stringify(answer), usage: { prompt_tokens: 498, completion_tokens: 41 } };
  }
  return {
    toolCalls: [{ name: 'issue_refund', arguments: { orderId, amountCents: order.totalCents, reason: 'arrived damaged or defective' } }],
    usage: { prompt_tokens: 497, completion_tokens: 31 },
  };
}

/** Plays the classifier model: keyword rules standing in for judgement. */
export function classifierModel(messages: ChatMessage[]): ScriptStep {
  const email = (messages.find((m) => m.role === 'user')?.content ?? '').toLowerCase();
  const answer =
    /billed|charge|invoice|refund/.test(email) ? { label: 'billing', confidence: 0.93, reason: 'The customer reports a duplicate charge and asks for a refund.' }
    : /locked out|two-factor|password|login/.test(email) ? { label: 'account_access', confidence: 0.9, reason: 'The customer cannot sign in after changing phones (two-factor).' }
    : { label: 'other', confidence: 0.5, reason: 'No specific category matches.' };
  return { text: JSON.stringify(answer), usage: { prompt_tokens: 231, completion_tokens: 29 } };
}

/**
 * Plays the eval suites' LLM judge (src/eval/scorers/judge.ts): passes an output whose reason is
 * one short sentence containing one of the criteria's "quoted" terms.
 */
export function judgeModel(messages: ChatMessage[]): ScriptStep {
  const user = messages.find((m) => m.role === 'user')?.content ?? '';
  const criteria = user.split('\n\nAgent input:')[0] ?? '';
  const terms = [...criteria.matchAll(/"([^"]+)"/g)].map((m) => m[1]!.toLowerCase());
  const reason = /"reason": "([^"]*)"/.exec(user)?.[1] ?? '';
  const relevant = terms.some((term) => reason.toLowerCase().includes(term));
  const short = reason.length > 10 && reason.length <= 200;
  const pass = relevant && short;
  const verdict = { score: pass ? 0.9 : 0.3, pass, reason: pass ? 'The reason is one short sentence naming what the customer reports.' : 'The reason does not name what the customer reports in one short sentence.' };
  return { text: JSON.stringify(verdict), usage: { prompt_tokens: 260, completion_tokens: 30 } };
}

/** Plays the triage model: refund requests go to handle_refund (the refunds agent), anything else gets a reply. */
export function triageModel(messages: ChatMessage[]): ScriptStep {
  const user = messages.find((m) => m.role === 'user')?.content ?? '';
  const tool = messages.filter((m) => m.role === 'tool').at(-1);
  if (!tool) {
    if (/refund|money back/i.test(user)) return { toolCalls: [{ name: 'handle_refund', arguments: { input: user } }], usage: { prompt_tokens: 288, completion_tokens: 40 } };
    const answer = { route: 'reply', reply: 'Thanks for asking! A colleague will get back to you about that shortly.' };
    return { text: JSON.stringify(answer), usage: { prompt_tokens: 280, completion_tokens: 30 } };
  }
  const decision = JSON.parse(tool.content ?? '{}') as { decision?: string; reason?: string };
  const answer = { route: 'refunds', reply: decision.reason ? `${decision.decision === 'refunded' ? 'Refunded' : 'Declined'}: ${decision.reason}` : 'Your refund request was passed on; we will be in touch.' };
  return { text: JSON.stringify(answer), usage: { prompt_tokens: 360, completion_tokens: 45 } };
}

/** Whether a scripted request comes from the triage agent (its system prompt). */
export function isTriage(messages: ChatMessage[]): boolean {
  return (messages[0]?.content ?? '').startsWith('You are the triage desk');
}
