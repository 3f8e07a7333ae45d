/**
 * A conversation in the web console (real chromium, real server, a worker in this process, a
 * scripted model that repeats every user message it is shown): a completed thread shows a
 * message box; sending a message reopens the stream, and the page shows the turns, the new
 * message in the timeline and the second answer, which repeats both user turns.
 *
 * Screenshot for design review: /tmp/twelve-console-conversation.png.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRuntime, defineAgent, type Runtime } from '../src/index.js';
import { parseApiKeys } from '../src/server/auth.js';
import { startServer, type RunningServer } from '../src/server/serve.js';
import { consoleBrowser, eventually, tearDown } from './support/browser.js';
import { stepModel, userTexts } from './support/hitl.js';

const key = 'tw_test_carol_2b7e5d0c9a4f1368';
const browser = consoleBrowser({ key });
const { api, newPage, errors: pageErrors } = browser;
let dir: string;
let runtime: Runtime;
let server: RunningServer;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'twelve-console-conversation-'));
  const echo = defineAgent({ name: 'echo', purpose: 'Repeats what it is told, for tests', model: 'scripted:echo', prompt: { text: 'Repeat.' } });
  runtime = createRuntime({
    agents: [echo],
    models: { 'scripted:echo': stepModel((_step, request) => ({ text: `heard: ${userTexts(request).join(' | ')}` })) },
    env: { TWELVE_DATABASE_URL: `sqlite:${join(dir, 'twelve.db')}`, TWELVE_LOG: 'off' },
  });
  runtime.startWorker({ pollMs: 100 });
  server = await startServer({ runtime, host: '127.0.0.1', port: 0, apiKeys: parseApiKeys(`carol=operator,reader=${key}`), console: true });
  await browser.open({ dir, url: server.url });
}, 60_000);

afterAll(() => tearDown({ open: [browser, server, runtime], dir }));

describe('a conversation in the console', () => {
  it('sends the next message from a completed thread and shows the turns and the new answer', async () => {
    const launched = await api<{ thread: { id: string } }>('/v1/threads', { method: 'POST', body: { agent: 'echo', input: 'first' } });
    const id = launched.body.thread.id;
    await eventually(async () => (await api<{ status: string }>(`/v1/threads/${id}`)).body.status).toBe('completed');

    const page = await newPage();
    await page.goto(`${server.url}/#/threads/${id}`);
    await page.getByTestId('api-key-input').fill(key);
    await page.getByTestId('sign-in').click();
    await eventually(() => page.getByTestId('me').textContent()).toContain('carol');
    await page.getByTestId('message-form').waitFor();
    await page.getByTestId('message-text').fill('second');
    await page.getByTestId('message-send').click();

    await eventually(() => page.getByTestId('turn-assistant').count()).toBe(2);
    expect(await page.getByTestId('turn-user').allTextContents()).toEqual(['Inputfirst', 'carolsecond']);
    expect(await page.getByTestId('turn-assistant').nth(1).textContent()).toContain('heard: first | second');
    await eventually(() => page.getByTestId('message-added').textContent()).toContain('Message from carol');
    // Completed again: the box is back for the next message.
    await eventually(() => page.getByTestId('message-form').isVisible()).toBe(true);
    await page.screenshot({ path: join(tmpdir(), 'twelve-console-conversation.png'), fullPage: true });
    const events = (await api<{ events: Array<{ type: string; data: Record<string, unknown> }> }>(`/v1/threads/${id}/events`)).body.events;
    expect(events.filter((e) => e.type === 'message_added')).toHaveLength(1);
    expect(pageErrors).toEqual([]);
  }, 60_000);
});
