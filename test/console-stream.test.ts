/**
 * The console shows a model call's words while it streams (an agent with stream: true), in
 * chromium against the real server: the thread page's streaming panel shows the first chunk
 * while the scripted model holds the rest, and once the call is stored the panel goes and the
 * timeline has the whole text.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { keys, startApi } from './support/api.js';
import { consoleBrowser, eventually, tearDown } from './support/browser.js';
import { gate } from './support/hitl.js';
import { startServer } from './support/runtime.js';
import { chatty } from './support/stream-agents.js';

const browser = consoleBrowser({ key: keys.reader.key });
const profile = mkdtempSync(join(tmpdir(), 'twelve-console-stream-'));
afterAll(() => tearDown({ open: [browser], dir: profile }));
let launched = false;
/** One chromium for the file's tests (pages go to full URLs, so the url given first does for all). */
async function openBrowser(url: string) {
  if (!launched) await browser.open({ dir: profile, url });
  launched = true;
}

describe('the console streams tokens', () => {
  it('shows a model call word by word while it streams, then the stored text', async () => {
    const server = await startServer();
    const held = gate();
    server.enqueue({ chunks: ['Your order ', 'ships tomorrow.'], beforeChunk: (index) => (index === 1 ? held.promise : Promise.resolve()) });
    const api = await startApi({ agents: [chatty], models: {}, hookSecrets: new Map(), worker: true, console: true, env: { OPENAI_BASE_URL: server.baseURL } });
    try {
      const thread = await api.runtime.launch({ agent: 'chatty', input: 'order A-1' });
      await openBrowser(api.url);
      const page = await browser.newPage();
      await page.goto(`${api.url}/#/threads/${thread.id}`);
      await page.getByTestId('api-key-input').fill(keys.reader.key);
      await page.getByTestId('sign-in').click();
      const streaming = page.getByTestId('streaming-text');
      // The first chunk is on the page while the model still holds the second.
      await eventually(() => streaming.textContent()).toBe('Your order ');
      expect(await streaming.isVisible()).toBe(true);
      held.resolve();
      await eventually(() => page.getByTestId('timeline').textContent()).toContain('Your order ships tomorrow.');
      await eventually(() => streaming.isVisible()).toBe(false);
      expect(browser.errors).toEqual([]);
      await page.close(); // before its server goes: no reconnect errors in the next test
    } finally {
      held.resolve();
    }
  }, 60_000);

  it('serves the example chat page at /chat/, which launches a thread and renders its UI message stream', async () => {
    const server = await startServer();
    server.enqueue({ text: 'Checking.', toolCalls: [{ name: 'lookup', arguments: { order: 'A-7' } }] }, { chunks: ['It ships ', 'tomorrow.'] });
    const api = await startApi({ agents: [chatty], models: {}, hookSecrets: new Map(), worker: true, console: true, env: { OPENAI_BASE_URL: server.baseURL } });
    await openBrowser(api.url);
    const page = await browser.newPage();
    await page.goto(`${api.url}/chat/`);
    await page.locator('#key').fill(keys.ops.key);
    await page.locator('#input').fill('Where is order A-7?');
    await page.locator('#send').click();
    const answer = page.locator('.message.assistant');
    await eventually(() => answer.textContent()).toContain('It ships tomorrow.');
    expect(await answer.locator('.tool').textContent()).toContain('lookup({"order":"A-7"}) → {"order":"A-7","ships":"tomorrow"}');
    await eventually(() => answer.getAttribute('class')).toBe('message assistant');
    expect(browser.errors).toEqual([]);
    await page.close();
  }, 60_000);
});
