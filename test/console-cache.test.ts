/**
 * Prompt-cache tokens in the web console, in chromium (playwright-core) against the real server:
 * a parent and its child thread on scripted models whose calls read and write a cache. The
 * thread page shows the thread's cached / written totals, each model call's, the child's on its
 * tool call and the response of "what the model saw"; the Costs page has Cached and Written
 * columns that agree with GET /v1/costs. Only nonzero parts are shown on the thread page.
 *
 * Screenshot for design review: /tmp/twelve-console-cache.png.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { keys, startApi } from './support/api.js';
import { consoleBrowser, eventually, tearDown } from './support/browser.js';
import { cachedAgents, cachedPricesEnv } from './support/cached-agents.js';
import { defineAgent } from '../src/index.js';

const browser = consoleBrowser({ key: keys.reader.key });
// The browser's profile outlives the test (closed in afterAll), so its folder is removed after it.
const profile = mkdtempSync(join(tmpdir(), 'twelve-console-cache-'));
afterAll(() => tearDown({ open: [browser], dir: profile }));

describe('the console shows prompt-cache tokens', () => {
  it('on the thread page (totals, each model call, the child, the response) and as Cached / Written columns on the Costs page', async () => {
    const { agents, models } = cachedAgents();
    // Never launched: its card shows caching off and what its template does to caching.
    const clock = defineAgent({ name: 'clock', purpose: 'Puts the time in its prompt, for tests', model: 'scripted:lead', cache: 'off', prompt: { text: 'It is {{now}}.' } });
    const api = await startApi({ agents: [...agents, clock], models, env: cachedPricesEnv, hookSecrets: new Map(), console: true });
    const thread = await api.runtime.launch({ agent: 'lead', input: 'go' });
    await api.runtime.runUntilIdle();
    const [child] = await api.runtime.store.listChildren(thread.id);

    await browser.open({ dir: profile, url: api.url });
    const page = await browser.newPage();
    await page.goto(`${api.url}/#/threads/${thread.id}`);
    await page.getByTestId('api-key-input').fill(keys.reader.key);
    await page.getByTestId('sign-in').click();
    await eventually(() => page.getByTestId('thread-cache').textContent()).toBe('2,224 cached · 550 written');
    expect(await page.getByTestId('thread-tokens').textContent()).toBe('3,000 → 330');
    const calls = page.getByTestId('model-call');
    await eventually(() => calls.count()).toBe(2);
    // Only the nonzero parts: the answer read from the cache and wrote nothing.
    expect(await calls.getByTestId('model-cache').allTextContents()).toEqual(['1,024 cached · 150 written', '1,200 cached']);
    expect(await page.getByTestId('tool-call').getByTestId('child-tokens').textContent()).toBe('child 500 → 10 tok (400 written)');
    const first = calls.first();
    await first.getByTestId('model-seen').locator('summary').click();
    await eventually(() => first.getByTestId('seen-response').textContent()).toContain('1,200 → 300 tokens (1,024 cached · 150 written)');
    await page.screenshot({ path: join(tmpdir(), 'twelve-console-cache.png'), fullPage: true });

    await page.goto(`${api.url}/#/threads/${child!.id}`);
    await eventually(() => page.getByTestId('thread-cache').textContent()).toBe('400 written');

    const report = (await api.call('GET', '/v1/costs?by=agent&since=7d', { key: 'reader' })).body;
    expect(report.total).toMatchObject({ cachedInputTokens: 2224, cacheWriteTokens: 550 });
    await page.goto(`${api.url}/#/costs`);
    await page.getByTestId('cost-chart').waitFor();
    const rows = (section: string) =>
      page
        .getByTestId(section)
        .getByTestId('cost-row')
        .evaluateAll((els) => els.map((el) => [el.getAttribute('data-key'), el.querySelector('[data-testid="cost-cached"]')!.textContent, el.querySelector('[data-testid="cost-written"]')!.textContent]));
    const shown = (n: number) => n.toLocaleString('en-US');
    expect(await rows('costs-by-agent')).toEqual(report.rows.map((r: any) => [r.agent, shown(r.cachedInputTokens), shown(r.cacheWriteTokens)]));
    expect(await rows('costs-by-agent')).toEqual([
      ['helper', '0', '400'],
      ['lead', '2,224', '150'],
    ]);
    expect(await rows('costs-by-model')).toEqual([
      ['scripted:helper', '0', '400'],
      ['scripted:lead', '2,224', '150'],
    ]);
    expect(await page.getByTestId('costs-summary').textContent()).toMatch(/^\$0\.\d+ · 3 model calls · 3,000 input \(2,224 cached, 550 written\) and 330 output tokens$/);
    await page.screenshot({ path: join(tmpdir(), 'twelve-console-cache-costs.png'), fullPage: true });

    // The Agents page: each agent's prompt caching, and the template warning of GET /v1/agents.
    await page.goto(`${api.url}/#/agents`);
    const card = (name: string) => page.locator(`[data-agent="${name}"]`).getByTestId('agent-prompt-cache');
    await eventually(() => card('lead').getAttribute('data-cache')).toBe('auto');
    expect(await card('lead').getByTestId('agent-prompt-cache-warning').count()).toBe(0);
    expect(await card('clock').getAttribute('data-cache')).toBe('off');
    expect(await card('clock').textContent()).toContain('off: no Anthropic cache breakpoints, no OpenAI cache key');
    expect(await card('clock').getByTestId('agent-prompt-cache-warning').textContent()).toMatch(/^\{\{now\}\} is not a template variable .* it renders as an empty string\./);
    expect(browser.errors).toEqual([]);
  }, 60_000);
});
