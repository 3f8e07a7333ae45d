/**
 * The console's Costs page in a real browser (playwright-core + Debian chromium) against the real
 * server: a priced model on the scripted OpenAI server and an unpriced scripted one, threads
 * of two tenants. The chart stacks spend per day per agent, the unpriced call is flagged (never
 * $0), and the tables agree with GET /v1/costs.
 *
 * Screenshot for design review: /tmp/twelve-console-costs.png.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRuntime, defineAgent, scriptedModel, type Runtime } from '../src/index.js';
import { parseApiKeys } from '../src/server/auth.js';
import { startServer, type RunningServer } from '../src/server/serve.js';
import { supportAgent } from './support/agents.js';
import { consoleBrowser, eventually, tearDown } from './support/browser.js';
import { startScriptedOpenAIServer, type ScriptedServer } from './support/scripted-openai-server.js';

const readerKey = 'tw_test_reader_5c2e9a7f1b3d6048';
const browser = consoleBrowser({ key: readerKey });
const { api, newPage, errors: pageErrors } = browser;
let dir: string;
let runtime: Runtime;
let server: RunningServer;
let openai: ScriptedServer;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'twelve-console-costs-'));
  openai = await startScriptedOpenAIServer();
  openai.setFallback(() => ({ text: 'Delivered.', usage: { prompt_tokens: 4_000, completion_tokens: 200 } }));
  const { agent: support } = supportAgent({ modelSettings: { maxRetries: 0 } });
  const echo = defineAgent({ name: 'echo', purpose: 'Echoes, for tests', model: 'scripted:echo', prompt: { text: 'Echo {{input}}' } });
  runtime = createRuntime({
    agents: [support, echo],
    models: { 'scripted:echo': scriptedModel(() => ({ text: 'echo' })) },
    env: { TWELVE_DATABASE_URL: `sqlite:${join(dir, 'twelve.db')}`, TWELVE_LOG: 'off', OPENAI_API_KEY: 'sk-test-4f9c2a7b1e8d6035', OPENAI_BASE_URL: openai.baseURL, TWELVE_TENANT_KEY: 'customer' },
  });
  for (const [agent, customer] of [['support', 'acme'], ['support', 'globex'], ['support', 'acme'], ['echo', 'acme']] as const) {
    const thread = await runtime.launch({ agent, input: 'Where is A-1001?', metadata: { customer } });
    const run = await runtime.runThread(thread.id);
    expect(run.outcome, `${agent}: ${run.thread.waitingReason}`).toBe('completed');
  }
  server = await startServer({ runtime, host: '127.0.0.1', port: 0, apiKeys: parseApiKeys(`dashboard=reader=${readerKey}`), console: true });
  await browser.open({ dir, url: server.url });
  await browser.context.addInitScript((key) => (globalThis as unknown as { localStorage: { setItem(k: string, v: string): void } }).localStorage.setItem('twelve.apiKey', key), readerKey);
}, 60_000);

afterAll(async () => {
  await tearDown({ open: [browser, server, runtime], dir });
  await openai?.close();
});

describe('the console: costs', () => {
  it('charts spend per day per agent, flags the unpriced call, and lists agents, models and tenants as the API does', async () => {
    const report = (await api('/v1/costs?by=agent&since=7d')).body;
    const support = report.rows.find((r: any) => r.agent === 'support');
    expect(support).toMatchObject({ calls: 3, unpricedCalls: 0 });
    const page = await newPage();
    await page.goto(`${server.url}/#/threads`);
    await page.getByTestId('nav-costs').click();
    await page.getByTestId('cost-chart').waitFor();
    expect(await page.title()).toBe('Costs · Twelve');

    const today = new Date().toISOString().slice(0, 10);
    const bars = page.getByTestId('cost-bar');
    // The unpriced echo call draws no bar (its spend is unknown); support's spend does.
    expect(await bars.evaluateAll((els) => els.map((el) => [el.getAttribute('data-day'), el.getAttribute('data-agent'), Number(el.getAttribute('data-cost'))]))).toEqual([
      [today, 'support', support.costUsd],
    ]);
    expect(await page.getByTestId('cost-day').count()).toBe(8); // the 7 days before today and today
    const mark = page.locator(`[data-testid="unpriced-mark"][data-day="${today}"]`);
    expect(await mark.getAttribute('data-count')).toBe('1');
    expect(await page.getByTestId('unpriced-note').textContent()).toContain('1 model call had no known price');
    expect(await page.getByTestId('costs-summary').textContent()).toMatch(/^\$0\.\d+ \+ 1 unpriced · 4 model calls · /);

    const rows = (section: string) =>
      page.getByTestId(section).getByTestId('cost-row').evaluateAll((els) => els.map((el) => [el.getAttribute('data-key'), el.querySelector('[data-testid="cost-spend"]')!.textContent]));
    expect(await rows('costs-by-agent')).toEqual([
      ['echo', 'unknown (1 unpriced)'],
      ['support', expect.stringMatching(/^\$0\.\d+$/)],
    ]);
    expect(await rows('costs-by-model')).toEqual([
      ['openai:gpt-4o-2024-08-06', expect.stringMatching(/^\$0\.\d+$/)],
      ['scripted:echo', 'unknown (1 unpriced)'],
    ]);
    expect(await rows('costs-by-tenant')).toEqual([
      ['acme', expect.stringMatching(/^\$0\.\d+ \+ 1 unpriced$/)],
      ['globex', expect.stringMatching(/^\$0\.\d+$/)],
    ]);
    await page.screenshot({ path: join(tmpdir(), 'twelve-console-costs.png'), fullPage: true });

    // Another period comes from the picker, in the address.
    await page.getByTestId('costs-period').selectOption('30d');
    await eventually(() => page.getByTestId('cost-day').count()).toBe(31);
    expect(page.url()).toContain('#/costs?since=30d');
    expect(pageErrors).toEqual([]);
  });
});
