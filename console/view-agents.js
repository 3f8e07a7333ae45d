/** Agents: each agent's manifest (models, tools with schemas and approval policies, limits, quality settings, release), and a launcher. */
import { qualityView } from './agent-quality.js';
import { can, endpoints } from './api.js';
import { deciders, people } from './actions.js';
import { h, jsonView, mount } from './dom.js';
import { count, duration, usd } from './format.js';
import { showError, toast } from './toast.js';

export function agentsView(root, params) {
  const list = h('div', { class: 'agents-list', testid: 'agents-list' }, h('p', { class: 'muted' }, 'Loading…'));
  const summary = h('p', { class: 'page-sub' }, '');
  mount(root, h('div', { class: 'page-head' }, h('div', {}, h('h1', {}, 'Agents'), summary)), list);
  let cancelled = false;

  endpoints
    .agents()
    .then(({ agents }) => {
      if (cancelled) return;
      summary.textContent = `${agents.length} agent${agents.length === 1 ? '' : 's'} this server runs`;
      if (!agents.length) {
        return mount(list, h('div', { class: 'empty card' }, h('h2', {}, 'No agents'), h('p', {}, 'List agents in twelve.config.ts.')));
      }
      mount(list, agents.map(agentCard));
      const wanted = params.get('name');
      if (wanted) list.querySelector(`[data-agent="${CSS.escape(wanted)}"]`)?.scrollIntoView({ block: 'start' });
    })
    .catch((error) => {
      showError(error);
      mount(list, h('div', { class: 'empty card' }, h('h2', {}, 'Could not load agents'), h('p', {}, error.message)));
    });
  return () => (cancelled = true);
}

function agentCard(agent) {
  const [primary, ...fallbacks] = agent.models ?? [];
  return h(
    'article',
    { class: 'card agent-card', testid: 'agent-card', dataset: { agent: agent.name }, id: `agent-${agent.name}` },
    h('header', { class: 'agent-head' }, h('h2', {}, agent.name), h('code', { class: 'release', title: 'release id', testid: 'agent-release' }, agent.releaseId)),
    h('p', { class: 'purpose' }, agent.purpose),
    h(
      'div',
      { class: 'agent-grid' },
      h(
        'section',
        {},
        h('h3', {}, 'Models'),
        h(
          'ol',
          { class: 'models' },
          primary ? h('li', {}, h('code', {}, primary), h('span', { class: 'pill' }, 'primary')) : null,
          fallbacks.map((m, i) => h('li', {}, h('code', {}, m), h('span', { class: 'pill pill-muted' }, `fallback ${i + 1}`))),
        ),
      ),
      h('section', {}, h('h3', {}, 'Limits'), limitsView(agent.limits ?? {})),
    ),
    qualityView(agent),
    promptCacheView(agent.promptCache),
    h('h3', {}, `Tools (${agent.tools?.length ?? 0})`),
    agent.tools?.length ? h('div', { class: 'tools' }, agent.tools.map(toolView)) : h('p', { class: 'muted' }, 'No tools: the agent answers directly.'),
    agent.outputSchema
      ? h('details', { class: 'expander' }, h('summary', {}, 'Output schema'), schemaTable(agent.outputSchema), jsonView(agent.outputSchema))
      : null,
    can('launch') ? launcher(agent) : null,
  );
}

/** Prompt caching: on (the default) or off, and what in the prompt template would defeat it (GET /v1/agents promptCache). */
function promptCacheView(promptCache) {
  if (!promptCache) return null; // a server older than prompt caching
  return h(
    'section',
    { class: 'agent-cache', testid: 'agent-prompt-cache', dataset: { cache: promptCache.cache } },
    h(
      'dl',
      { class: 'facts facts-inline' },
      h(
        'div',
        { class: 'fact' },
        h('dt', {}, 'Prompt cache'),
        h('dd', {}, promptCache.cache === 'off' ? 'off: no Anthropic cache breakpoints, no OpenAI cache key' : 'on: Anthropic cache breakpoints, an OpenAI cache key per thread'),
      ),
    ),
    (promptCache.warnings ?? []).map((warning) => h('p', { class: 'hint warn', testid: 'agent-prompt-cache-warning' }, warning.message)),
  );
}

const limitLabels = {
  maxSteps: ['Max model steps', count],
  maxTokens: ['Max tokens', count],
  maxCostUsd: ['Max cost per thread', usd],
  maxConsecutiveErrors: ['Escalate after errors in a row', count],
  maxToolAttempts: ['Max attempts per tool run', count],
  dailyCostUsd: ['Daily cost cap (all threads)', usd],
};

export function limitsView(limits) {
  const rows = Object.entries(limits).filter(([, v]) => v !== undefined && v !== null);
  if (!rows.length) return h('p', { class: 'muted' }, 'No limits.');
  return h(
    'dl',
    { class: 'facts' },
    rows.map(([key, value]) => {
      const [label, format] = limitLabels[key] ?? [key, (v) => (typeof v === 'object' ? JSON.stringify(v) : String(v))];
      return h('div', { class: 'fact' }, h('dt', {}, label), h('dd', {}, typeof value === 'number' ? format(value) : String(value)));
    }),
  );
}

const policyText = {
  always: 'every call needs approval',
  never: 'runs without approval',
  predicate: 'depends on the arguments',
};

export function toolView(tool) {
  const a = tool.approval ?? { policy: 'never', approvers: [] };
  return h(
    'div',
    { class: 'tool', testid: 'agent-tool', dataset: { tool: tool.name } },
    h('div', { class: 'tool-head' }, h('code', { class: 'tool-name' }, tool.name), h('span', { class: `policy policy-${a.policy}`, title: `approval policy: ${a.policy}` }, policyText[a.policy] ?? a.policy)),
    h('p', { class: 'tool-description' }, tool.description),
    a.policy !== 'never'
      ? h(
          'dl',
          { class: 'facts facts-inline' },
          h('div', { class: 'fact' }, h('dt', {}, 'Approvers'), h('dd', {}, people(deciders(a)))),
          h('div', { class: 'fact' }, h('dt', {}, 'Decide within'), h('dd', {}, a.timeoutMs ? duration(a.timeoutMs) : 'no deadline')),
          a.timeoutMs ? h('div', { class: 'fact' }, h('dt', {}, 'Then'), h('dd', {}, a.onTimeout === 'approve' ? 'approved' : 'rejected')) : null,
        )
      : null,
    schemaTable(tool.inputSchema),
    h('details', { class: 'expander' }, h('summary', {}, 'JSON Schema'), jsonView(tool.inputSchema)),
  );
}

/** The top-level properties of an object schema as a table: name, type, required, constraints. */
function schemaTable(schema) {
  const properties = schema?.properties;
  if (!properties || typeof properties !== 'object' || !Object.keys(properties).length) return null;
  const required = new Set(schema.required ?? []);
  return h(
    'table',
    { class: 'schema-table' },
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Field'), h('th', { scope: 'col' }, 'Type'), h('th', { scope: 'col' }, 'Rules'))),
    h(
      'tbody',
      {},
      Object.entries(properties).map(([name, prop]) =>
        h(
          'tr',
          {},
          h('td', {}, h('code', {}, name), required.has(name) ? null : h('span', { class: 'muted small' }, ' optional')),
          h('td', {}, h('code', { class: 'type' }, typeOf(prop))),
          h('td', { class: 'rules' }, rules(prop)),
        ),
      ),
    ),
  );
}

function typeOf(prop) {
  if (!prop || typeof prop !== 'object') return 'any';
  if (prop.enum) return 'enum';
  if (prop.const !== undefined) return 'const';
  if (Array.isArray(prop.type)) return prop.type.join(' | ');
  if (prop.type === 'array') return `${typeOf(prop.items)}[]`;
  if (prop.type) return prop.type;
  if (prop.anyOf) return prop.anyOf.map(typeOf).join(' | ');
  return 'any';
}

function rules(prop) {
  if (!prop || typeof prop !== 'object') return '';
  const parts = [];
  if (prop.description) parts.push(prop.description);
  if (prop.enum) parts.push(`one of ${prop.enum.map((v) => JSON.stringify(v)).join(', ')}`);
  if (prop.pattern) parts.push(`matches /${prop.pattern}/`);
  // zod writes JavaScript's safe-integer bounds for .int(): not a rule anyone set.
  const meaningful = (n) => typeof n === 'number' && Math.abs(n) < Number.MAX_SAFE_INTEGER;
  if (prop.exclusiveMinimum === 0) parts.push('positive');
  else if (meaningful(prop.exclusiveMinimum)) parts.push(`> ${prop.exclusiveMinimum}`);
  if (meaningful(prop.minimum)) parts.push(`≥ ${prop.minimum}`);
  if (meaningful(prop.maximum)) parts.push(`≤ ${prop.maximum}`);
  if (prop.minLength !== undefined) parts.push(`min ${prop.minLength} chars`);
  if (prop.maxLength !== undefined) parts.push(`max ${prop.maxLength} chars`);
  if (prop.type === 'integer') parts.push('whole number');
  if (prop.default !== undefined) parts.push(`default ${JSON.stringify(prop.default)}`);
  return parts.join(' · ');
}

function launcher(agent) {
  const input = h('textarea', { rows: 3, placeholder: 'The input: text, or JSON with "Send as JSON"', testid: 'launch-input', id: `launch-${agent.name}` });
  const asJson = h('input', { type: 'checkbox', id: `launch-json-${agent.name}` });
  const form = h(
    'form',
    { class: 'subform launcher' },
    h('label', { for: input.id }, 'Input'),
    input,
    h(
      'div',
      { class: 'button-row' },
      h('label', { class: 'checkbox', for: asJson.id }, asJson, ' Send as JSON'),
      h('button', { type: 'submit', class: 'btn btn-primary', testid: 'launch-button' }, 'Launch thread'),
    ),
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    let value = input.value.trim();
    if (!value) return toast('Write an input first.', { kind: 'error' });
    if (asJson.checked) {
      try {
        value = JSON.parse(value);
      } catch (error) {
        return toast(`The input is not valid JSON: ${error.message}`, { kind: 'error' });
      }
    }
    const button = form.querySelector('button[type=submit]');
    button.disabled = true;
    try {
      const { thread } = await endpoints.launch({ agent: agent.name, input: value });
      toast(`Launched ${thread.id}`, { kind: 'success' });
      location.hash = `#/threads/${encodeURIComponent(thread.id)}`;
    } catch (error) {
      showError(error);
    } finally {
      button.disabled = false;
    }
  });
  return h('details', { class: 'expander launch-expander' }, h('summary', {}, `Launch a ${agent.name} thread`), form);
}
