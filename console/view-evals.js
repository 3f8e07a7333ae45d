/**
 * Evals per agent: #/evals lists the agents with their latest stored run; #/evals?agent=<name>
 * charts the suite score by release over time (an inline SVG line, one per suite: each
 * release's latest run, in the order releases were first run) above a table of the runs; a
 * click on a run shows its per-case results. Runs are stored by `twelve eval <agent>`.
 */
import { endpoints } from './api.js';
import { h, mount, valueView } from './dom.js';
import { absoluteTime, count, duration, timeAgo, usd } from './format.js';
import { showError } from './toast.js';

const svgNs = 'http://www.w3.org/2000/svg';
const colors = ['#4f46e5', '#0f766e', '#b45309', '#be185d'];
const enc = encodeURIComponent;

/** An SVG element with attributes (presentation attributes only: the console's CSP forbids inline styles). */
function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(svgNs, tag);
  for (const [key, value] of Object.entries(attrs)) if (value !== undefined && value !== null) el.setAttribute(key, String(value));
  for (const child of children.flat(Infinity)) if (child !== null && child !== undefined) el.appendChild(typeof child === 'string' ? document.createTextNode(child) : child);
  return el;
}

const shortRelease = (id) => id.replace(/^rel_/, '').slice(0, 8);
const score = (value) => (typeof value === 'number' ? value.toFixed(2) : '–');

/** Per suite, each release's (and model override's) latest score, oldest release first. */
export function scoreTrends(runs) {
  const trends = new Map();
  for (const run of [...runs].sort((a, b) => a.createdAt.localeCompare(b.createdAt))) {
    if (!trends.has(run.suite)) trends.set(run.suite, []);
    const points = trends.get(run.suite);
    const point = { releaseId: run.releaseId, model: run.model, score: run.summary.score, createdAt: run.createdAt, runId: run.id };
    const at = points.findIndex((p) => p.releaseId === run.releaseId && p.model === run.model);
    if (at >= 0) points[at] = point;
    else points.push(point);
  }
  return [...trends.entries()].map(([suite, points]) => ({ suite, points }));
}

/** The score-by-release line chart. */
function trendChart(trends) {
  const width = 640;
  const height = 220;
  const pad = { left: 40, right: 40, top: 14, bottom: 44 };
  const columns = Math.max(...trends.map((t) => t.points.length), 1);
  const x = (i) => pad.left + (columns === 1 ? (width - pad.left - pad.right) / 2 : (i * (width - pad.left - pad.right)) / (columns - 1));
  const y = (v) => pad.top + (1 - v) * (height - pad.top - pad.bottom);
  const grid = [0, 0.25, 0.5, 0.75, 1].map((v) => [
    s('line', { x1: pad.left, x2: width - pad.right, y1: y(v), y2: y(v), stroke: 'currentColor', 'stroke-opacity': v === 0 ? 0.35 : 0.12 }),
    s('text', { x: pad.left - 8, y: y(v) + 4, 'text-anchor': 'end', 'font-size': 11, fill: 'currentColor', 'fill-opacity': 0.7 }, v.toFixed(2)),
  ]);
  const labels = (trends[0]?.points ?? []).map((p, i) =>
    s('text', { x: x(i), y: height - pad.bottom + 18, 'text-anchor': 'middle', 'font-size': 11, 'font-family': 'monospace', fill: 'currentColor', 'fill-opacity': 0.8 }, shortRelease(p.releaseId)),
  );
  const lines = trends.map((trend, index) => {
    const color = colors[index % colors.length];
    const coords = trend.points.map((p, i) => `${x(i)},${y(p.score)}`).join(' ');
    return s(
      'g',
      { 'data-testid': 'trend-line', 'data-suite': trend.suite },
      s('polyline', { points: coords, fill: 'none', stroke: color, 'stroke-width': 2, 'stroke-linejoin': 'round' }),
      trend.points.map((p, i) =>
        s(
          'circle',
          { cx: x(i), cy: y(p.score), r: 4, fill: color, 'data-testid': 'trend-point', 'data-release': p.releaseId, 'data-score': p.score.toFixed(2) },
          s('title', {}, `${trend.suite} · ${p.releaseId}${p.model ? ` (${p.model})` : ''}: ${p.score.toFixed(2)}`),
        ),
      ),
    );
  });
  const svg = s('svg', { viewBox: `0 0 ${width} ${height}`, class: 'trend-chart', role: 'img', 'aria-label': 'Eval score by release', 'data-testid': 'trend-chart' }, grid, labels, lines);
  const legend = h('p', { class: 'trend-legend muted' }, trends.map((t, i) => h('span', { class: 'trend-key', dataset: { color: i % colors.length } }, h('span', { class: `trend-swatch trend-swatch-${i % colors.length}`, 'aria-hidden': 'true' }), t.suite)));
  return h('figure', { class: 'card trend-card' }, h('figcaption', { class: 'sub-label' }, 'Score by release (latest run of each release)'), svg, legend);
}

/** One run's per-case results. */
function runDetail(run) {
  return h(
    'section',
    { class: 'card run-detail', testid: 'run-detail', dataset: { id: run.id } },
    h('h2', {}, 'Run ', h('code', {}, run.id), h('span', { class: 'muted' }, ` · ${run.suite} · `, h('code', {}, run.releaseId), run.model ? ` · model ${run.model}` : '', run.baselineReleaseId ? ` · baseline ${run.baselineReleaseId}` : '')),
    h(
      'table',
      { class: 'threads-table' },
      h('thead', {}, h('tr', {}, ['Case', 'Result', 'Score', 'Status', 'Cost', 'Tokens', 'Steps', 'Latency', 'Why'].map((t) => h('th', { scope: 'col' }, t)))),
      h(
        'tbody',
        {},
        run.results.map((r) =>
          h(
            'tr',
            { testid: 'case-row', dataset: { id: r.id, pass: String(r.pass) } },
            h('td', {}, h('code', {}, r.id)),
            h('td', {}, h('span', { class: `pill ${r.pass ? 'pill-good' : 'pill-bad'}` }, r.pass ? 'pass' : 'fail')),
            h('td', { class: 'num' }, score(r.score)),
            h('td', {}, r.status),
            h('td', { class: 'num' }, usd(r.costUsd)),
            h('td', { class: 'num' }, count(r.tokens)),
            h('td', { class: 'num' }, count(r.steps)),
            h('td', { class: 'num' }, duration(r.latencyMs)),
            h('td', { testid: 'case-why' }, r.error ?? r.scores.filter((x) => !x.pass).map((x) => `${x.name}: ${x.detail ?? 'failed'}`).join('; ')),
          ),
        ),
      ),
    ),
    run.results.some((r) => !r.pass)
      ? h('details', { class: 'expander' }, h('summary', {}, 'Outputs of the failed cases'), run.results.filter((r) => !r.pass).map((r) => h('div', {}, h('div', { class: 'sub-label' }, r.id), valueView(r.output))))
      : null,
  );
}

function agentPage(root, agent) {
  const chart = h('div', { testid: 'evals-chart' }, h('p', { class: 'muted' }, 'Loading…'));
  const table = h('div', { testid: 'evals-runs' });
  const detail = h('div', { testid: 'evals-detail' });
  mount(
    root,
    h('nav', { class: 'crumbs', 'aria-label': 'Breadcrumb' }, h('a', { href: '#/evals' }, 'Evals'), h('span', { 'aria-hidden': 'true' }, ' / '), agent),
    h('div', { class: 'page-head' }, h('div', {}, h('h1', {}, `Evals · ${agent}`), h('p', { class: 'page-sub' }, 'Stored runs of the eval suite, newest first')), h('a', { href: `#/proposals?agent=${enc(agent)}`, class: 'btn', testid: 'evals-proposals-link' }, 'Proposed cases')),
    chart,
    table,
    detail,
  );
  let cancelled = false;
  const open = (id, row) => {
    for (const r of table.querySelectorAll('tr[aria-selected]')) r.removeAttribute('aria-selected');
    row.setAttribute('aria-selected', 'true');
    mount(detail, h('p', { class: 'muted' }, 'Loading…'));
    endpoints
      .evalRun(id)
      .then((run) => !cancelled && mount(detail, runDetail(run)))
      .catch((error) => !cancelled && (showError(error), mount(detail)));
  };
  endpoints
    .evalRuns({ agent, limit: 200 })
    .then(({ runs }) => {
      if (cancelled) return;
      if (!runs.length) {
        mount(chart);
        return mount(table, h('div', { class: 'empty card', testid: 'evals-empty' }, h('h2', {}, 'No eval runs stored yet'), h('p', {}, `Run the suite: twelve eval ${agent} --save`)));
      }
      mount(chart, trendChart(scoreTrends(runs)));
      mount(
        table,
        h(
          'div',
          { class: 'card table-wrap' },
          h(
            'table',
            { class: 'threads-table evals-table' },
            h('thead', {}, h('tr', {}, ['Date', 'Suite', 'Release', 'Model', 'Passed', 'Failed', 'Score', 'Cost', 'Baseline'].map((t) => h('th', { scope: 'col' }, t)))),
            h(
              'tbody',
              {},
              runs.map((run) => {
                const row = h(
                  'tr',
                  { testid: 'eval-run-row', dataset: { id: run.id }, tabindex: 0, class: 'clickable', title: 'Show the per-case results' },
                  h('td', { title: absoluteTime(run.createdAt), testid: 'run-date' }, run.createdAt.slice(0, 16).replace('T', ' ')),
                  h('td', {}, run.suite),
                  h('td', {}, h('a', { href: `#/releases/${enc(run.releaseId)}` }, h('code', {}, run.releaseId))),
                  h('td', {}, run.model ?? h('span', { class: 'muted' }, 'agent\u2019s')),
                  h('td', { class: 'num', testid: 'run-passed' }, String(run.summary.passed)),
                  h('td', { class: 'num', testid: 'run-failed' }, String(run.summary.failed)),
                  h('td', { class: 'num', testid: 'run-score' }, score(run.summary.score)),
                  h('td', { class: 'num' }, usd(run.summary.costUsd)),
                  h('td', {}, run.baselineReleaseId ? h('code', {}, run.baselineReleaseId) : h('span', { class: 'muted' }, '–')),
                );
                row.addEventListener('click', (e) => {
                  if (!e.target.closest('a')) open(run.id, row);
                });
                row.addEventListener('keydown', (e) => e.key === 'Enter' && open(run.id, row));
                return row;
              }),
            ),
          ),
        ),
      );
    })
    .catch((error) => {
      if (cancelled) return;
      showError(error);
      mount(chart, h('div', { class: 'empty card' }, h('h2', {}, 'Could not load eval runs'), h('p', {}, error.message)));
    });
  return () => (cancelled = true);
}

/** #/evals: each agent with its latest stored run. */
function agentsPage(root) {
  const body = h('div', { testid: 'evals-agents' }, h('p', { class: 'muted' }, 'Loading…'));
  mount(root, h('div', { class: 'page-head' }, h('div', {}, h('h1', {}, 'Evals'), h('p', { class: 'page-sub' }, 'Eval suite runs per agent, by release'))), body);
  let cancelled = false;
  Promise.all([endpoints.agents(), endpoints.evalRuns({ limit: 500 })])
    .then(([{ agents }, { runs }]) => {
      if (cancelled) return;
      mount(
        body,
        h(
          'div',
          { class: 'card table-wrap' },
          h(
            'table',
            { class: 'threads-table' },
            h('thead', {}, h('tr', {}, ['Agent', 'Runs', 'Latest score', 'Latest release', 'Last run'].map((t) => h('th', { scope: 'col' }, t)))),
            h(
              'tbody',
              {},
              agents.map((a) => {
                const mine = runs.filter((r) => r.agent === a.name);
                const latest = mine[0];
                return h(
                  'tr',
                  { testid: 'evals-agent-row', dataset: { agent: a.name } },
                  h('td', {}, h('a', { href: `#/evals?agent=${enc(a.name)}`, testid: 'evals-agent-link' }, a.name)),
                  h('td', { class: 'num' }, String(mine.length)),
                  h('td', { class: 'num' }, latest ? score(latest.summary.score) : '–'),
                  h('td', {}, latest ? h('code', {}, latest.releaseId) : h('span', { class: 'muted' }, 'no runs yet')),
                  h('td', {}, latest ? timeAgo(latest.createdAt) : ''),
                );
              }),
            ),
          ),
        ),
      );
    })
    .catch((error) => !cancelled && (showError(error), mount(body, h('div', { class: 'empty card' }, h('h2', {}, 'Could not load evals'), h('p', {}, error.message)))));
  return () => (cancelled = true);
}

export function evalsView(root, params) {
  const agent = params.get('agent');
  return agent ? agentPage(root, agent) : agentsPage(root);
}
