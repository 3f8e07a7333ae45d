/**
 * The console's "what the model saw" panel, in chromium against the real server: opening it on
 * a model step shows the stored request (settings, tools offered, every message) and the
 * response; on a step recorded before requests were stored it shows the re-derived request,
 * labelled so. Signed in with a reader key.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { NewEvent } from '../src/thread/events.js';
import { keys, startApi } from './support/api.js';
import { consoleBrowser, eventually, tearDown } from './support/browser.js';

const browser = consoleBrowser({ key: keys.reader.key });
// The browser's profile outlives the test (closed in afterAll), so its folder is removed after it.
const profile = mkdtempSync(join(tmpdir(), 'twelve-console-seen-'));
afterAll(() => tearDown({ open: [browser], dir: profile }));

describe('the console shows what the model saw', () => {
  it('opens a panel per model step with the request and the response, stored or re-derived', async () => {
    const api = await startApi({ console: true });
    const thread = await api.runtime.launch({ agent: 'payer', input: 'pay 50' });
    await api.runtime.runThread(thread.id);
    const events = await api.runtime.loadEvents(thread.id);
    // The same log as an older Twelve wrote it: no request on model_called.
    const old = events.map((e) => {
      const { request: _request, ...data } = e.data as Record<string, unknown>;
      return { type: e.type, data, releaseId: e.releaseId, at: e.at } as unknown as NewEvent;
    });
    await api.runtime.store.createThread({ id: 'th_old_log', agent: 'payer', releaseId: events[0]!.releaseId, input: 'pay 50', events: old, summary: { status: 'completed', modelSteps: 2, inputTokens: 0, outputTokens: 0, costUsd: 0 } });

    await browser.open({ dir: profile, url: api.url });
    const page = await browser.newPage();
    await page.goto(`${api.url}/#/threads/${thread.id}`);
    await page.getByTestId('api-key-input').fill(keys.reader.key);
    await page.getByTestId('sign-in').click();
    const calls = page.getByTestId('model-call');
    await eventually(() => calls.count()).toBe(2);

    const first = calls.first();
    await first.getByTestId('model-seen').locator('summary').click();
    const body = first.getByTestId('seen-body');
    await eventually(() => body.getByTestId('seen-source').textContent()).toMatch(/^Stored request sha256:[0-9a-f]{64}/);
    expect(await body.getByTestId('seen-settings').textContent()).toContain('toolChoice auto');
    expect(await body.getByTestId('seen-tools').textContent()).toContain('pay');
    const roles = await body.getByTestId('seen-messages').locator('li.seen-message').evaluateAll((items) => items.map((li) => li.getAttribute('data-role')));
    expect(roles).toEqual(['system', 'user']);
    expect(await body.getByTestId('seen-messages').textContent()).toContain('pay 50');
    expect(await body.getByTestId('seen-response').textContent()).toContain('pay');

    const second = calls.nth(1);
    await second.getByTestId('model-seen').locator('summary').click();
    await eventually(() => second.getByTestId('seen-messages').textContent()).toContain('"paid"');
    expect(await second.getByTestId('seen-response').textContent()).toContain('paid');

    await page.goto(`${api.url}/#/threads/th_old_log`);
    const oldCall = page.getByTestId('model-call').first();
    await oldCall.getByTestId('model-seen').locator('summary').click();
    await eventually(() => oldCall.getByTestId('seen-source').textContent()).toMatch(/^Re-derived: recorded before requests were stored/);
    expect(await oldCall.getByTestId('seen-messages').textContent()).toContain('pay 50');
    expect(browser.errors).toEqual([]);
  }, 60_000);
});
