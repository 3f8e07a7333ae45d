/** Formatting for numbers, money, time and statuses: one place, so every view agrees. */
import { h } from './dom.js';

export const terminalStatuses = ['completed', 'failed', 'cancelled'];

const statusLabels = {
  runnable: 'Runnable',
  running: 'Running',
  awaiting_approval: 'Needs approval',
  awaiting_human: 'Needs a person',
  awaiting_review: 'Needs review',
  awaiting_child: 'Waiting for a child',
  sleeping: 'Sleeping',
  paused: 'Paused',
  completed: 'Completed',
  failed: 'Failed',
  cancelled: 'Cancelled',
};

export function statusLabel(status) {
  return statusLabels[status] ?? status;
}

/** The status pill. A runnable thread a worker holds right now shows as running. */
export function statusBadge(thread, testid) {
  const status = thread.status === 'runnable' && thread.running ? 'running' : thread.status;
  return h('span', { class: `badge status-${status}`, testid, dataset: { status: thread.status } }, h('span', { class: 'dot', 'aria-hidden': 'true' }), statusLabel(status));
}

export function usd(value) {
  if (value === null || value === undefined) return '—';
  if (value === 0) return '$0';
  if (value < 0.01) return '$' + value.toFixed(5).replace(/0+$/, '');
  if (value < 1) return '$' + value.toFixed(4).replace(/0+$/, '').replace(/\.$/, '');
  return '$' + value.toFixed(2);
}

/** The cost of one model call: null means its model has no known price, which is not $0. */
export function callCost(value) {
  return value === null || value === undefined ? 'price unknown' : usd(value);
}

/**
 * A thread's spend. Calls with no known price make it unknown (costUsd null), never $0;
 * the title says what the priced calls cost.
 */
export function threadCost(thread) {
  const unpriced = thread.unpricedCalls ?? 0;
  if (thread.costUsd !== null && thread.costUsd !== undefined && unpriced === 0) return usd(thread.costUsd);
  const text = unpriced > 0 ? `price unknown (${unpriced} call${unpriced === 1 ? '' : 's'})` : 'price unknown';
  const priced = (thread.modelSteps ?? 0) - unpriced;
  const title = `${unpriced} model call${unpriced === 1 ? '' : 's'} had no known price (set TWELVE_MODEL_PRICES)${priced > 0 ? `; the other ${priced} cost ${usd(thread.pricedCostUsd)}` : ''}`;
  return h('span', { class: 'price-unknown', title, testid: 'price-unknown' }, text);
}

const integer = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });
export function count(value) {
  return value === null || value === undefined ? '—' : integer.format(value);
}

export function duration(ms) {
  if (ms === null || ms === undefined) return '—';
  if (ms < 1) return '<1 ms';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
  const hours = ms / 3_600_000;
  return hours < 48 ? `${Math.round(hours * 10) / 10} h` : `${Math.round(hours / 24)} d`;
}

const timeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
const clockFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });

export function absoluteTime(iso) {
  if (!iso) return '';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? String(iso) : timeFormat.format(date);
}

export function clock(iso) {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? String(iso) : clockFormat.format(date);
}

/** "3 min ago", "in 2 h". */
export function relativeTime(iso, now = Date.now()) {
  if (!iso) return '—';
  const then = new Date(iso).getTime();
  if (Number.isNaN(then)) return String(iso);
  const diff = then - now;
  const abs = Math.abs(diff);
  let text;
  if (abs < 5_000) return 'just now';
  if (abs < 60_000) text = `${Math.round(abs / 1000)} s`;
  else if (abs < 3_600_000) text = `${Math.round(abs / 60_000)} min`;
  else if (abs < 86_400_000) text = `${Math.round(abs / 3_600_000)} h`;
  else text = `${Math.round(abs / 86_400_000)} d`;
  return diff < 0 ? `${text} ago` : `in ${text}`;
}

/** A <time> with a relative label and the exact time on hover; refreshed by the clock tick. */
export function timeAgo(iso, testid) {
  return h('time', { datetime: iso ?? '', title: absoluteTime(iso), class: 'ago', testid, dataset: { relative: '' } }, relativeTime(iso));
}

/** Updates every relative time on the page (called every few seconds). */
export function refreshRelativeTimes(root = document) {
  for (const el of root.querySelectorAll('time[data-relative]')) el.textContent = relativeTime(el.getAttribute('datetime'));
}

/** Text of an agent input for one-line previews. */
export function preview(value, max = 120) {
  const text = typeof value === 'string' ? value : JSON.stringify(value) ?? '';
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? flat.slice(0, max - 1) + '…' : flat;
}

/**
 * The prompt-cache part of a token count, only its nonzero parts: "1,024 cached · 150 written",
 * or '' for a call (or thread) that touched no cache.
 */
export function cacheText(usage) {
  const parts = [];
  if (usage?.cachedInputTokens) parts.push(`${count(usage.cachedInputTokens)} cached`);
  if (usage?.cacheWriteTokens) parts.push(`${count(usage.cacheWriteTokens)} written`);
  return parts.join(' · ');
}

/** The hover text of a cacheText. */
export const cacheTitle = "Of the input tokens: read from the provider's prompt cache (billed at the cheaper cached rate) · written to it (Anthropic bills writes above the input rate)";

export function tokens(inputTokens, outputTokens) {
  return `${count(inputTokens)} → ${count(outputTokens)}`;
}

/** An output's confidence (0..1) as people read it: "0.40"; "—" when the agent declares none. */
export function confidenceText(value) {
  return typeof value === 'number' ? value.toFixed(2) : '—';
}

const fallbackReasons = { models_failed: 'every model failed', blocked: 'no model could be called', budget: 'a budget ran out' };

/** The "fallback" pill: the agent's non-LLM fallback produced this thread's output, and why (on hover). */
export function fallbackBadge(thread, testid = 'fallback-badge') {
  const fallback = thread.fallback;
  if (!fallback) return null;
  const title = `Answered by the non-LLM fallback: ${fallbackReasons[fallback.reason] ?? fallback.reason} (${fallback.detail})`;
  return h('span', { class: 'pill pill-warn', testid, title, dataset: { reason: fallback.reason } }, 'fallback');
}
