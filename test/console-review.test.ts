/**
 * Output review in the web console, in a real browser (playwright-core driving Debian
 * chromium) against the real HTTP server and a worker in this process: answers waiting for
 * review show up in the inbox with their output, confidence and reason; on the thread page an
 * edit the output schema refuses shows the server's error, a fixed edit completes the thread;
 * from the inbox an answer is sent back (the model answers again and the new answer waits),
 * approved, and another rejected. Every assertion reads DOM text that came from the server.
 *
 * Screenshots for design review: /tmp/twelve-console-review-{inbox,thread}.png.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createRuntime, type Runtime } from '../src/index.js';
import { parseApiKeys } from '../src/server/auth.js';
import { startServer, type RunningServer } from '../src/server/serve.js';
import { consoleBrowser, eventually, tearDown } from './support/browser.js';
import { scriptedAgent, stepModel, userTexts } from './support/hitl.js';

const aliceKey = 'tw_test_alice_6f1c0b9e4d2a8c73';
const screenshot = (name: string) => join(tmpdir(), `twelve-console-review-${name}.png`);

const Decision = z.object({ decision: z.enum(['refunded', 'denied']), amountCents: z.number().int().nonnegative(), confidence: z.number() });
const model = stepModel((step) => ({ text: JSON.stringify({ decision: 'refunded', amountCents: step === 0 ? 4500 : 2000, confidence: step === 0 ? 0.62 : 0.71 }) }));

const browser = consoleBrowser({ key: aliceKey });
const { api, newPage, errors: pageErrors } = browser;
let dir: string;
let runtime: Runtime;
let server: RunningServer;

async function launch(input: string): Promise<string> {
  const launched = await api<{ thread: { id: string } }>('/v1/threads', { method: 'POST', body: { agent: 'refund-review', input } });
  expect(launched.status).toBe(201);
  return launched.body.thread.id;
}

/** Opens `path`, signing in unless an earlier page stored the key in this browser. */
async function signIn(page: Page, path: string): Promise<void> {
  await page.goto(`${server.url}/#${path}`);
  const form = page.getByTestId('api-key-input');
  await form.or(page.getByTestId('me')).first().waitFor();
  if (await form.isVisible()) {
    await form.fill(aliceKey);
    await page.getByTestId('sign-in').click();
  }
  await eventually(() => page.getByTestId('me').textContent()).toContain('alice');
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'twelve-console-review-'));
  const agent = scriptedAgent({ name: 'refund-review', output: Decision, confidence: 'confidence', review: 'always', reviewers: ['quality'] });
  runtime = createRuntime({
    agents: [agent],
    models: { 'scripted:refund-review': model },
    retryBaseMs: 1,
    env: { TWELVE_DATABASE_URL: `sqlite:${join(dir, 'twelve.db')}`, TWELVE_LOG: 'off', TWELVE_HUMANS: 'alice=quality' },
  });
  runtime.startWorker({ pollMs: 50 });
  server = await startServer({ runtime, host: '127.0.0.1', port: 0, apiKeys: parseApiKeys(`alice=operator,approver,reader=${aliceKey}`), console: true });
  await browser.open({ dir, url: server.url });
}, 60_000);

afterAll(() => tearDown({ open: [browser, server, runtime], dir }));

describe('output review in the web console', () => {
  it('edits an answer on the thread page (the schema error shown, then fixed), sends one back and approves it, rejects another, from the inbox', async () => {
    const edited = await launch('Refund order A-1');
    const sentBack = await launch('Refund order A-2');
    const rejected = await launch('Refund order A-3');
    for (const id of [edited, sentBack, rejected]) await eventually(async () => (await runtime.getThreadOrThrow(id)).status).toBe('awaiting_review');

    // The inbox lists all three, each with its answer, confidence and reason.
    const inbox = await newPage();
    await signIn(inbox, '/inbox');
    const item = (id: string) => inbox.locator(`[data-testid="inbox-item"][data-thread-id="${id}"]`);
    await item(sentBack).waitFor();
    expect(await inbox.locator('[data-testid="inbox-item"][data-kind="review"]').count()).toBe(3);
    expect(await item(sentBack).getByTestId('review-output').textContent()).toBe('{\n  "decision": "refunded",\n  "amountCents": 4500,\n  "confidence": 0.62\n}');
    expect(await item(sentBack).getByTestId('review-confidence').textContent()).toBe('confidence 0.62');
    expect(await item(sentBack).getByTestId('review-reason').textContent()).toBe('this agent has every answer reviewed');
    expect(await item(sentBack).locator('.badge').textContent()).toBe('Needs review');
    await inbox.screenshot({ path: screenshot('inbox'), fullPage: true });

    // On the thread page: an edit the output schema refuses shows why, next to the text.
    const page = await newPage();
    await page.goto(`${server.url}/#/threads/${edited}`);
    const panel = page.getByTestId('pending-panel');
    await panel.getByTestId('review-form').waitFor();
    await panel.getByTestId('review-edit').locator('summary').click();
    const editor = panel.getByTestId('review-edit-input');
    expect(JSON.parse(await editor.inputValue())).toEqual({ decision: 'refunded', amountCents: 4500, confidence: 0.62 });
    await editor.fill('{"decision": "maybe", "amountCents": 4500, "confidence": 0.62}');
    await panel.getByTestId('review-save-edit').click();
    await eventually(() => panel.getByTestId('review-edit-error').textContent()).toMatch(/^the edited output does not match the output schema of agent refund-review: decision: /);
    expect((await runtime.getThreadOrThrow(edited)).status).toBe('awaiting_review');
    await page.screenshot({ path: screenshot('thread'), fullPage: true });
    await editor.fill('{"decision": "denied", "amountCents": 0, "confidence": 0.9}');
    await panel.getByTestId('review-comment').fill('outside the return window');
    await panel.getByTestId('review-save-edit').click();
    const status = page.getByTestId('thread-header').getByTestId('thread-status');
    await eventually(() => status.getAttribute('data-status')).toBe('completed');
    await eventually(() => page.getByTestId('thread-result').textContent()).toContain('"decision": "denied"');
    await eventually(() => page.getByTestId('timeline').textContent()).toContain('Answer edited by alice');
    expect((await runtime.getThreadOrThrow(edited)).output).toEqual({ decision: 'denied', amountCents: 0, confidence: 0.9 });

    // From the inbox: send one back; the model answers again and the new answer waits there.
    await item(sentBack).getByTestId('review-send-back').locator('summary').click();
    await item(sentBack).getByTestId('review-feedback').fill('Only the broken item: 20 EUR');
    await item(sentBack).getByTestId('review-send-back-button').click();
    await eventually(() => item(sentBack).getByTestId('review-output').textContent()).toContain('"amountCents": 2000');
    expect(userTexts(model.calls.at(-1)).at(-1)).toBe('A reviewer (alice) sent your answer back: Only the broken item: 20 EUR. Answer again.');
    await item(sentBack).getByTestId('review-approve').click();
    await eventually(async () => (await runtime.getThreadOrThrow(sentBack)).status).toBe('completed');
    expect((await runtime.getThreadOrThrow(sentBack)).output).toEqual({ decision: 'refunded', amountCents: 2000, confidence: 0.71 });

    // And reject the last one, with a comment.
    await item(rejected).getByTestId('review-comment').fill('fraud pattern');
    await item(rejected).getByTestId('review-reject').click();
    await inbox.getByTestId('inbox-empty').waitFor();
    const failed = await runtime.getThreadOrThrow(rejected);
    expect(failed.error).toEqual({ code: 'review_rejected', message: 'the answer was rejected in review by alice: fraud pattern' });

    expect(pageErrors).toEqual([]);
  }, 90_000);

  it('keeps the focus and what a reviewer is typing while the inbox and the thread page refresh', async () => {
    const id = await launch('Refund order A-4');
    await eventually(async () => (await runtime.getThreadOrThrow(id)).status).toBe('awaiting_review');

    // Waits for the page's next poll to re-render: `selector` is rebuilt by each render.
    const nextRender = async (page: Page, selector: string) => {
      await page.locator(selector).first().evaluate((el) => el.setAttribute('data-seen', ''));
      await page.locator(`${selector}:not([data-seen])`).first().waitFor({ state: 'attached' });
    };
    const focusedTestId = (page: Page) => page.evaluate<string>('document.activeElement?.dataset?.testid ?? document.activeElement?.tagName');

    // The inbox re-renders every poll; a comment being typed keeps its focus and its text.
    const inbox = await newPage();
    await signIn(inbox, '/inbox');
    const item = inbox.locator(`[data-testid="inbox-item"][data-thread-id="${id}"]`);
    await item.getByTestId('review-comment').click();
    await inbox.keyboard.type('refund the');
    await nextRender(inbox, `[data-thread-id="${id}"] .inbox-thread`);
    await nextRender(inbox, `[data-thread-id="${id}"] .inbox-thread`);
    expect(await focusedTestId(inbox)).toBe('review-comment');
    await inbox.keyboard.type(' shipping only');
    expect(await item.getByTestId('review-comment').inputValue()).toBe('refund the shipping only');

    // The thread page re-renders its header and pending panel every poll; an edit in progress stays.
    const page = await newPage();
    await page.goto(`${server.url}/#/threads/${id}`);
    const panel = page.getByTestId('pending-panel');
    await panel.getByTestId('review-edit').locator('summary').click();
    const editor = panel.getByTestId('review-edit-input');
    await editor.click();
    await page.keyboard.press('Control+End');
    await page.keyboard.type('\n');
    await nextRender(page, '[data-testid="thread-header"] .thread-title');
    expect(await focusedTestId(page)).toBe('review-edit-input');
    await page.keyboard.type('// typed across a refresh');
    expect(await editor.inputValue()).toMatch(/\}\n\/\/ typed across a refresh$/);

    // The controls under it too: a reason and a budget typed, then the focus elsewhere, across a refresh.
    await page.getByTestId('control-reason').fill('checking with finance');
    await page.locator('.budget-expander summary').click();
    await page.getByTestId('budget-cost').fill('3.5');
    await page.getByRole('heading', { name: 'Timeline' }).click();
    await nextRender(page, '[data-testid="thread-header"] .thread-title');
    expect(await page.getByTestId('control-reason').inputValue()).toBe('checking with finance');
    expect(await page.getByTestId('budget-cost').inputValue()).toBe('3.5');
    expect(await page.locator('.budget-expander').getAttribute('open')).toBe('');

    expect(pageErrors).toEqual([]);
  }, 60_000);
});
