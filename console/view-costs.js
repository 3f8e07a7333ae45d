/**
 * Costs: #/costs[?since=7d&agent=<name>]. Spend per day per agent as inline SVG stacked bars,
 * then spend, tokens and calls per agent, model and tenant (GET /v1/costs, read from the
 * model_called events). A call whose model has no known price is flagged wherever it counts
 * (a mark over its day, "+ n unpriced" next to the dollars): its spend is unknown, never $0.
 */
import { endpoints } from './api.js';
import { h, mount } from './dom.js';
import { cacheTitle, count, usd } from './format.js';
import { showError } from './toast.js';

const svgNs = 'http://www.w3.org/2000/svg';
const colors = ['#4f46e5', '#0f766e', '#b45309', '#be185d'];
const periods = [
  ['24h', 'Last 24 hours'],
  ['7d', 'Last 7 days'],
  ['30d', 'Last 30 days'],
  ['90d', 'Last 90 days'],
];

/** An SVG element with attributes (presentation attributes only: the console's CSP forbids inline styles). */
function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(svgNs, tag);
  for (const [key, value] of Object.entries(attrs)) if (value !== undefined && value !== null) el.setAttribute(key, String(value));
  for (const child of children.flat(Infinity)) if (child !== null && child !== undefined) el.appendChild(typeof child === 'string' ? document.createTextNode(child) : child);
  return el;
}

/** "$0.75", "$0.75 + 2 unpriced", "unknown (1 unpriced)": dollars never stand for calls without a price. */
export function spend(row) {
  if (!row.unpricedCalls) return usd(row.costUsd);
  const note = `${row.unpricedCalls} unpriced`;
  return row.unpricedCalls === row.calls ? `unknown (${note})` : `${usd(row.costUsd)} + ${note}`;
}

/** Every UTC day from `since` to today, so a quiet day shows as an empty column, not a gap. */
function daysFrom(since, now = new Date()) {
  const days = [];
  const day = new Date(Date.UTC(new Date(since).getUTCFullYear(), new Date(since).getUTCMonth(), new Date(since).getUTCDate()));
  while (day <= now && days.length < 400) {
    days.push(day.toISOString().slice(0, 10));
    day.setUTCDate(day.getUTCDate() + 1);
  }
  return days;
}

/** Spend per day per agent, stacked. Days with unpriced calls carry a mark and say how many. */
function dailyChart(rows, since) {
  const agents = [...new Set(rows.map((r) => r.agent))].sort();
  const days = daysFrom(since);
  for (const r of rows) if (!days.includes(r.day)) days.push(r.day);
  days.sort();
  const byDay = new Map(days.map((d) => [d, rows.filter((r) => r.day === d)]));
  const totals = days.map((d) => byDay.get(d).reduce((sum, r) => sum + r.costUsd, 0));
  const top = Math.max(...totals, 0) || 1;
  const width = 640;
  const height = 240;
  const pad = { left: 56, right: 12, top: 20, bottom: 40 };
  const band = (width - pad.left - pad.right) / days.length;
  const barWidth = Math.max(2, Math.min(40, band * 0.7));
  const y = (v) => pad.top + (1 - v / top) * (height - pad.top - pad.bottom);
  const grid = [0, 0.5, 1].map((f) => [
    s('line', { x1: pad.left, x2: width - pad.right, y1: y(top * f), y2: y(top * f), stroke: 'currentColor', 'stroke-opacity': f === 0 ? 0.35 : 0.12 }),
    s('text', { x: pad.left - 6, y: y(top * f) + 4, 'text-anchor': 'end', 'font-size': 11, fill: 'currentColor', 'fill-opacity': 0.7 }, usd(top * f)),
  ]);
  const labelEvery = Math.ceil(days.length / 10);
  const columns = days.map((day, i) => {
    const x = pad.left + i * band + (band - barWidth) / 2;
    let base = 0;
    const segments = agents.flatMap((agent, a) => {
      const row = byDay.get(day).find((r) => r.agent === agent);
      if (!row || row.costUsd <= 0) return [];
      const y0 = y(base);
      base += row.costUsd;
      const color = colors[a % colors.length];
      return [
        s(
          'rect',
          { x, y: y(base), width: barWidth, height: Math.max(0.5, y0 - y(base)), fill: color, 'data-testid': 'cost-bar', 'data-day': day, 'data-agent': agent, 'data-cost': row.costUsd },
          s('title', {}, `${day} · ${agent}: ${spend(row)} · ${count(row.inputTokens)} in${cached(row)} / ${count(row.outputTokens)} out tokens · ${count(row.calls)} calls`),
        ),
      ];
    });
    const unpriced = byDay.get(day).reduce((sum, r) => sum + r.unpricedCalls, 0);
    const mark = unpriced
      ? s(
          'text',
          { x: x + barWidth / 2, y: y(base) - 5, 'text-anchor': 'middle', 'font-size': 12, fill: '#b45309', 'data-testid': 'unpriced-mark', 'data-day': day, 'data-count': unpriced },
          '!',
          s('title', {}, `${day}: ${unpriced} model call${unpriced === 1 ? '' : 's'} with no known price, not in the bar (set TWELVE_MODEL_PRICES)`),
        )
      : null;
    const label = i % labelEvery === 0 ? s('text', { x: x + barWidth / 2, y: height - pad.bottom + 16, 'text-anchor': 'middle', 'font-size': 10.5, fill: 'currentColor', 'fill-opacity': 0.8 }, day.slice(5)) : null;
    return s('g', { 'data-testid': 'cost-day', 'data-day': day }, segments, mark, label);
  });
  const svg = s('svg', { viewBox: `0 0 ${width} ${height}`, class: 'trend-chart', role: 'img', 'aria-label': 'Spend per day per agent', 'data-testid': 'cost-chart' }, grid, columns);
  const legend = h(
    'p',
    { class: 'trend-legend muted' },
    agents.map((agent, i) => h('span', { class: 'trend-key' }, h('span', { class: `trend-swatch trend-swatch-${i % colors.length}`, 'aria-hidden': 'true' }), agent)),
  );
  return h('figure', { class: 'card trend-card' }, h('figcaption', { class: 'sub-label' }, 'Spend per day (UTC) per agent'), svg, legend);
}

/** " (1,024 cached, 150 written)": a row's prompt-cache tokens, only the nonzero parts ('' from a server older than prompt caching). */
function cached(row) {
  const parts = [row.cachedInputTokens ? `${count(row.cachedInputTokens)} cached` : '', row.cacheWriteTokens ? `${count(row.cacheWriteTokens)} written` : ''].filter(Boolean);
  return parts.length ? ` (${parts.join(', ')})` : '';
}

/** One grouping as a table: name, calls, tokens (of the input, those cached and written), spend (flagged when some calls had no price). */
function table(title, dimension, rows, testid) {
  return h(
    'section',
    { class: 'card costs-table', testid },
    h('h2', {}, title),
    h(
      'table',
      { class: 'threads-table' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          [dimension[0].toUpperCase() + dimension.slice(1), 'Calls', 'Input tokens', 'Cached', 'Written', 'Output tokens', 'Spend'].map((t) =>
            h('th', { scope: 'col', ...(t === 'Cached' || t === 'Written' ? { title: cacheTitle } : {}) }, t),
          ),
        ),
      ),
      h(
        'tbody',
        {},
        rows.map((r) =>
          h(
            'tr',
            { testid: 'cost-row', dataset: { key: r[dimension] ?? '', unpriced: r.unpricedCalls } },
            h('td', {}, r[dimension] === null ? h('span', { class: 'muted' }, '(none)') : h('code', {}, r[dimension])),
            h('td', { class: 'num' }, count(r.calls)),
            h('td', { class: 'num' }, count(r.inputTokens)),
            h('td', { class: 'num', testid: 'cost-cached' }, count(r.cachedInputTokens ?? 0)),
            h('td', { class: 'num', testid: 'cost-written' }, count(r.cacheWriteTokens ?? 0)),
            h('td', { class: 'num' }, count(r.outputTokens)),
            h('td', { class: 'num', testid: 'cost-spend' }, r.unpricedCalls ? h('span', { class: 'price-unknown', title: 'Calls whose model has no known price: their spend is unknown, not $0 (set TWELVE_MODEL_PRICES)' }, spend(r)) : spend(r)),
          ),
        ),
      ),
    ),
  );
}

export function costsView(root, params) {
  const since = periods.some(([value]) => value === params.get('since')) ? params.get('since') : '7d';
  const agent = params.get('agent') || undefined;
  const summary = h('p', { class: 'page-sub', testid: 'costs-summary' }, 'Loading…');
  const picker = h(
    'select',
    {
      'aria-label': 'Period',
      testid: 'costs-period',
      onchange: (event) => (location.hash = `#/costs?since=${event.target.value}${agent ? `&agent=${encodeURIComponent(agent)}` : ''}`),
    },
    periods.map(([value, label]) => h('option', { value, selected: value === since }, label)),
  );
  const body = h('div', {});
  mount(root, h('div', { class: 'page-head' }, h('div', {}, h('h1', {}, 'Costs'), summary), picker), body);
  let live = true;
  const query = (by) => endpoints.costs({ by, since, ...(agent ? { agent } : {}) });
  Promise.all([query('day,agent'), query('agent'), query('model'), query('tenant')])
    .then(([daily, byAgent, byModel, byTenant]) => {
      if (!live) return;
      const total = byAgent.total;
      summary.textContent = `${spend(total)} · ${count(total.calls)} model calls · ${count(total.inputTokens)} input${cached(total)} and ${count(total.outputTokens)} output tokens${agent ? ` · agent ${agent}` : ''}`;
      if (total.calls === 0) {
        mount(body, h('div', { class: 'empty card', testid: 'costs-empty' }, h('h2', {}, 'No model calls in this period'), h('p', {}, 'Spend appears here as agents call their models.')));
        return;
      }
      const tenants = byTenant.rows.some((r) => r.tenant !== null);
      mount(
        body,
        total.unpricedCalls
          ? h('p', { class: 'card costs-note price-unknown', testid: 'unpriced-note' }, `${total.unpricedCalls} model call${total.unpricedCalls === 1 ? '' : 's'} had no known price: their spend is unknown and not in the dollars shown. Give the models a price with TWELVE_MODEL_PRICES.`)
          : null,
        dailyChart(daily.rows, daily.since),
        table('By agent', 'agent', byAgent.rows, 'costs-by-agent'),
        table('By model', 'model', byModel.rows, 'costs-by-model'),
        tenants ? table('By tenant', 'tenant', byTenant.rows, 'costs-by-tenant') : null,
      );
    })
    .catch((error) => live && showError(error));
  return () => {
    live = false;
  };
}
