/**
 * The web console in a real browser (playwright-core driving Debian chromium) against the
 * real HTTP server, a worker in this process, and the refunds example replayed from its
 * recordings: a refund above the approval threshold is launched through the API, shows up
 * in the browser's inbox, is approved there with a comment, and the thread page (open in
 * another tab the whole time) streams the decision, the refund and the final answer over
 * SSE. Every assertion reads DOM text that came from the server.
 *
 * Screenshots for design review: /tmp/twelve-console-{inbox,thread,threads,agents,release,release-diff,fallback,fallback-thread}.png.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import emailClassifier from '../examples/email-classifier/agent.js';
import refunds from '../examples/refunds/agent.js';
import { createRuntime, defineAgent, type Runtime } from '../src/index.js';
import { scriptedModel } from '../src/testing.js';
import { parseApiKeys } from '../src/server/auth.js';
import { startServer, type RunningServer } from '../src/server/serve.js';
import { createRelease } from '../src/agent/release.js';
import { version } from '../src/version.js';
import { consoleBrowser, eventually, tearDown } from './support/browser.js';

const aliceKey = 'tw_test_alice_6f1c0b9e4d2a8c73';
const largeRequest = readFileSync(new URL('../examples/refunds/sample-large.txt', import.meta.url), 'utf8').trim();
const screenshot = (name: string) => join(tmpdir(), `twelve-console-${name}.png`);

// Every request the browser makes is recorded: a key must only ever travel in a header, never in a URL.
const browser = consoleBrowser({ key: aliceKey, recordRequests: true });
const { api, newPage, errors: pageErrors, requests } = browser;
let dir: string;
let runtime: Runtime;
let server: RunningServer;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'twelve-console-'));
  // The example's ledger reads this when it first moves money.
  process.env.REFUNDS_LEDGER_PATH = join(dir, 'ledger.db');
  runtime = createRuntime({
    agents: [refunds],
    env: {
      TWELVE_DATABASE_URL: `sqlite:${join(dir, 'twelve.db')}`,
      TWELVE_MODEL_MODE: 'replay',
      // issue_refund's approvers are the finance and support-lead roles.
      TWELVE_HUMANS: 'alice=finance',
    },
  });
  runtime.startWorker({ pollMs: 100 });
  server = await startServer({
    runtime,
    host: '127.0.0.1',
    port: 0,
    apiKeys: parseApiKeys(`alice=operator,approver,reader=${aliceKey}`),
    console: true,
  });
  await browser.open({ dir, url: server.url });
}, 60_000);

afterAll(() => tearDown({ open: [browser, server, runtime], env: ['REFUNDS_LEDGER_PATH'], dir }));

describe('the web console', () => {
  it('takes an API key, shows an approval in the inbox, approves it with a comment, and streams the thread to completion', async () => {
    // Sign in: a wrong key gets the server's message, the right one shows who you are.
    const inbox = await newPage();
    await inbox.goto(`${server.url}/#/inbox`);
    await inbox.getByTestId('api-key-input').fill('tw_not_a_key_000000000');
    await inbox.getByTestId('sign-in').click();
    await eventually(() => inbox.getByTestId('signin').textContent()).toContain('unknown API key');
    await inbox.getByTestId('api-key-input').fill(aliceKey);
    await inbox.getByTestId('sign-in').click();
    await eventually(() => inbox.getByTestId('me').textContent()).toContain('alice');
    await eventually(() => inbox.getByTestId('me').getAttribute('title')).toBe('roles: operator, approver, reader');
    await inbox.getByTestId('inbox-empty').waitFor();

    // Launch through the API; the worker runs it to the approval gate.
    const launched = await api<{ thread: { id: string }; created: boolean }>('/v1/threads', { method: 'POST', body: { agent: 'refunds', input: largeRequest } });
    expect(launched.status).toBe(201);
    const threadId = launched.body.thread.id;

    // The thread page, open from the start in its own tab, waits for the decision.
    const threadPage = await newPage();
    await threadPage.goto(`${server.url}/#/threads/${threadId}`);
    const status = threadPage.getByTestId('thread-header').getByTestId('thread-status');
    await eventually(() => status.getAttribute('data-status')).toBe('awaiting_approval');
    await eventually(() => threadPage.getByTestId('waiting-reason').textContent()).toContain('approval for issue_refund');
    await eventually(() => threadPage.getByTestId('pending-panel').textContent()).toContain('issue_refund');

    // The inbox shows the call with its arguments, reason, approvers and deadline.
    const item = inbox.locator(`[data-testid="inbox-item"][data-thread-id="${threadId}"]`);
    await item.waitFor();
    expect(await item.getByTestId('approval-tool').textContent()).toBe('issue_refund');
    const args = await item.getByTestId('approval-args').textContent();
    expect(args).toContain('"orderId": "A-1005"');
    expect(args).toContain('"amountCents": 24900');
    expect(await item.getByTestId('approval-reason').textContent()).toBe('refund of 24900 cents is above the 10000-cent approval threshold');
    expect(await item.getByTestId('approval-approvers').textContent()).toBe('financesupport-lead');
    expect(await item.getByTestId('approval-deadline').textContent()).toBe('in 24 h');
    expect(await item.textContent()).toContain('espresso machine from order A-1005');
    await eventually(() => inbox.getByTestId('inbox-count').textContent()).toBe('1');
    await inbox.screenshot({ path: screenshot('inbox'), fullPage: true });

    // Approve in the browser, with a comment.
    await item.getByTestId('approval-comment').fill('photos confirm the leak');
    await item.getByTestId('approve-button').click();
    // Done when the inbox is empty; an error toast (the server refused) fails with its message.
    const errorToast = inbox.getByTestId('toast-error');
    await inbox.getByTestId('inbox-empty').or(errorToast).first().waitFor();
    expect((await errorToast.count()) ? await errorToast.first().textContent() : 'no error').toBe('no error');
    await inbox.getByTestId('inbox-empty').waitFor();
    expect(await inbox.getByTestId('toast').first().textContent()).toContain('Approved issue_refund');

    // The other tab follows over SSE, without a reload: decision, comment, refund, answer.
    await eventually(() => status.getAttribute('data-status'), 45_000).toBe('completed');
    const timeline = threadPage.getByTestId('timeline');
    const refundCall = timeline.locator('[data-testid="tool-call"]', { hasText: 'issue_refund' });
    await eventually(() => refundCall.getByTestId('approval-decision').textContent()).toContain('Approved by alice');
    expect(await refundCall.getByTestId('decision-comment').textContent()).toBe('photos confirm the leak');
    expect(await refundCall.getByTestId('tool-state').textContent()).toBe('succeeded');
    expect(await refundCall.getByTestId('tool-result').textContent()).toMatch(/"refundId": "rf_\w+"/);
    const output = await timeline.getByTestId('thread-completed').getByTestId('thread-output').textContent();
    expect(output).toContain('"decision": "refunded"');
    expect(output).toContain('"orderId": "A-1005"');
    expect(await threadPage.getByTestId('thread-result').textContent()).toContain('"decision": "refunded"');
    expect(await threadPage.getByTestId('pending-panel').isHidden()).toBe(true);
    const live = threadPage.getByTestId('live-indicator');
    expect(Number(await live.getAttribute('data-received'))).toBeGreaterThanOrEqual(13);
    await eventually(() => live.getAttribute('data-state')).toBe('ended');
    // The stream carried the key in its Authorization header, and no URL ever did.
    const streamRequests = requests.filter((r) => r.url.includes(`/v1/threads/${threadId}/stream`));
    expect(streamRequests.length).toBeGreaterThan(0);
    for (const r of streamRequests) expect(r.authorization).toBe(`Bearer ${aliceKey}`);
    expect(requests.filter((r) => r.url.includes(aliceKey) || r.url.includes('access_token'))).toEqual([]);

    // The header agrees with the API, and every model call and tool call is on the timeline.
    const { body: thread } = await api(`/v1/threads/${threadId}`);
    const { body: { events } } = await api<{ events: Array<{ type: string; data: any }> }>(`/v1/threads/${threadId}/events`);
    expect(thread.status).toBe('completed');
    expect(await threadPage.getByTestId('thread-steps').textContent()).toBe(String(thread.modelSteps));
    expect(await threadPage.getByTestId('thread-tokens').textContent()).toBe(`${thread.inputTokens.toLocaleString('en-US')} → ${thread.outputTokens.toLocaleString('en-US')}`);
    expect(await threadPage.getByTestId('thread-release').textContent()).toBe(thread.releaseId);
    const modelCalls = events.filter((e) => e.type === 'model_called');
    expect(await timeline.getByTestId('model-call').count()).toBe(modelCalls.length);
    const firstCall = timeline.getByTestId('model-call').first();
    const first = modelCalls[0]!.data;
    expect(await firstCall.textContent()).toContain(`${first.usage.inputTokens} → ${first.usage.outputTokens} tok`);
    expect(await firstCall.textContent()).toContain(first.model);
    expect(await timeline.getByTestId('tool-call').count()).toBe(new Set(events.filter((e) => e.type === 'tool_requested').map((e) => e.data.callId)).size);
    const decided = events.find((e) => e.type === 'approval_decided')!.data;
    expect(decided).toEqual({ callId: expect.any(String), approved: true, by: 'alice', comment: 'photos confirm the leak' });
    await threadPage.screenshot({ path: screenshot('thread'), fullPage: true });

    // The threads list shows it, and its link leads back to the thread.
    await inbox.goto(`${server.url}/#/threads?status=completed`);
    const row = inbox.locator(`[data-testid="thread-row"][data-id="${threadId}"]`);
    await row.waitFor();
    expect(await row.getByTestId('thread-status').textContent()).toBe('Completed');
    expect(await inbox.getByTestId('filter-completed').getAttribute('aria-pressed')).toBe('true');
    await inbox.screenshot({ path: screenshot('threads'), fullPage: true });
    await row.getByTestId('thread-link').click();
    await eventually(() => inbox.getByTestId('thread-id').textContent()).toBe(threadId);

    expect(pageErrors).toEqual([]);
  }, 90_000);

  it('shows the agents manifest, and the API error message in a toast when a launch is refused', async () => {
    const page = await newPage();
    await page.goto(`${server.url}/#/agents`);
    // Signed in by the key the first test stored in this browser profile.
    const card = page.locator('[data-testid="agent-card"][data-agent="refunds"]');
    await card.waitFor();
    expect(await card.getByTestId('agent-release').textContent()).toBe(runtime.release('refunds').releaseId);
    const tool = card.locator('[data-testid="agent-tool"][data-tool="issue_refund"]');
    expect(await tool.textContent()).toContain('depends on the arguments');
    expect(await tool.textContent()).toContain('support-lead');
    expect(await card.textContent()).toContain('openai:gpt-4o-2024-08-06');
    // Quality settings: refunds has none of its own; its eval runs are a click away.
    expect(await card.getByTestId('agent-review').textContent()).toBe('Output reviewanswers count without review');
    expect(await card.getByTestId('agent-fallback').textContent()).toBe('Non-LLM fallbacknone');
    expect(await card.getByTestId('agent-confidence').textContent()).toBe('Confidencenot declared');
    expect(await card.getByTestId('agent-evals-link').getAttribute('href')).toBe('#/evals?agent=refunds');
    await page.screenshot({ path: screenshot('agents'), fullPage: true });

    // The refunds agent takes text: JSON input is refused by the server, and the toast says why.
    await card.locator('summary', { hasText: 'Launch a refunds thread' }).click();
    await card.getByTestId('launch-input').fill('{"orderId": "A-1001"}');
    await card.getByLabel('Send as JSON').check();
    await card.getByTestId('launch-button').click();
    const toast = page.getByTestId('toast-error');
    await toast.waitFor();
    expect(await toast.textContent()).toMatch(/input_invalid.*input for agent refunds is invalid/);
    expect(pageErrors).toEqual([]);
  }, 30_000);

  it('shows a thread\'s release, the releases of each agent with their threads, and the diff of two picked ones', async () => {
    // A newer build of refunds (another model, one more prompt line), saved as a deploy of it would save it.
    const build2 = defineAgent({ ...(refunds.options as any), model: 'openai:gpt-4o-2024-11-20', prompt: { text: refunds.promptTemplate.replace(/\n*$/, '\nAlways quote the order id.\n') } });
    const newer = createRelease(build2, {}, version);
    await runtime.store.saveRelease({ id: newer.releaseId, agent: 'refunds', manifest: newer.manifest });
    const current = runtime.release('refunds').releaseId;
    const { body: { threads } } = await api<{ threads: Array<{ id: string; releaseId: string }> }>('/v1/threads?status=completed');
    const thread = threads.find((t) => t.releaseId === current)!;

    // The thread page's release links to that release.
    const page = await newPage();
    await page.goto(`${server.url}/#/threads/${thread.id}`);
    await page.getByTestId('thread-release').click();
    const detail = page.getByTestId('release-detail');
    await eventually(() => detail.getByTestId('release-id').textContent()).toBe(current);
    expect(await detail.getByTestId('release-current').textContent()).toBe('current');
    expect(await detail.getByTestId('release-prompt').textContent()).toBe(refunds.promptTemplate);
    expect(await detail.getByTestId('release-tool').count()).toBe(2);
    expect(await detail.locator('[data-testid="release-tool"][data-tool="issue_refund"]').textContent()).toContain('external');
    expect(await detail.getByTestId('release-models').textContent()).toContain('openai:gpt-4o-2024-08-06');
    expect(await detail.getByTestId('release-threads').textContent()).toBe('1 completed');
    await page.screenshot({ path: screenshot('release'), fullPage: true });

    // The releases page: both builds under refunds, newest first, with their thread counts.
    await page.getByTestId('nav-releases').click();
    const group = page.locator('[data-testid="release-group"][data-agent="refunds"]');
    await eventually(() => group.getByTestId('release-row').count()).toBe(2);
    const rows = group.getByTestId('release-row');
    expect(await rows.nth(0).getAttribute('data-id')).toBe(newer.releaseId);
    expect(await rows.nth(0).getByTestId('release-threads').textContent()).toBe('no threads');
    expect(await rows.nth(1).getByTestId('release-threads').textContent()).toBe('1 completed');
    expect(await rows.nth(1).getByTestId('release-current').count()).toBe(1);
    expect(await page.getByTestId('compare-button').isDisabled()).toBe(true);

    // Pick both and compare: the prompt line by line, the model change by kind.
    await rows.nth(0).getByTestId('release-pick').check();
    await rows.nth(1).getByTestId('release-pick').check();
    await page.getByTestId('compare-button').click();
    const diff = page.getByTestId('release-diff');
    await diff.waitFor();
    expect(page.url()).toContain(`#/releases/${current}/diff/${newer.releaseId}`);
    expect(await diff.locator('.diff-add').allTextContents()).toEqual(['+Always quote the order id.\n']);
    expect(await diff.locator('[data-testid="diff-group"][data-group="models"]').textContent()).toMatch(/^Modelsmodels openai:gpt-4o-2024-08-06\b.* → openai:gpt-4o-2024-11-20\b/);
    expect(await diff.getByTestId('diff-summary').textContent()).toBe('2 changes');
    await page.screenshot({ path: screenshot('release-diff'), fullPage: true });
    expect(pageErrors).toEqual([]);
  }, 30_000);

  it('signs in by itself with the key `twelve dev` hands to this machine, which no page or URL carries', async () => {
    const bootKey = 'tw_test_dev_boot_5a8e1f0c2b7d';
    const devServer = await startServer({ runtime, host: '127.0.0.1', port: 0, apiKeys: [], console: true, bootKey: { key: bootKey, name: 'dev' } });
    try {
      const page = await newPage();
      const response = await page.goto(`${devServer.url}/#/threads`);
      expect(await response!.text()).not.toContain(bootKey);
      await eventually(() => page.getByTestId('me').textContent()).toContain('dev');
      expect(await page.getByTestId('sign-out').count()).toBe(0);
      const { body } = await api<{ threads: Array<{ id: string }> }>('/v1/threads');
      expect(body.threads.length).toBeGreaterThan(0);
      await page.locator(`[data-testid="thread-row"][data-id="${body.threads[0]!.id}"]`).waitFor();
      expect(await page.getByTestId('thread-row').count()).toBe(body.threads.length);
      // A thread page streams with the dev key too (same origin, loopback Host).
      await page.goto(`${devServer.url}/#/threads/${body.threads[0]!.id}`);
      await eventually(() => page.getByTestId('live-indicator').getAttribute('data-state')).toBe('ended');
      expect(requests.filter((r) => r.url.includes(bootKey))).toEqual([]);
      expect(pageErrors).toEqual([]);
    } finally {
      await devServer.close();
    }
  }, 30_000);

  it('shows the spend of calls with no known price as "price unknown", never as $0', async () => {
    // A scripted model has no price: its calls cost an unknown amount, whatever their tokens.
    const echo = defineAgent({ name: 'echo', purpose: 'Echoes on a model with no price', model: 'scripted:echo', prompt: { text: 'Echo {{input}}' } });
    const unpriced = createRuntime({
      agents: [echo],
      models: { 'scripted:echo': scriptedModel(() => ({ text: 'echo', usage: { inputTokens: 5, outputTokens: 1 } })) },
      env: { TWELVE_DATABASE_URL: `sqlite:${join(dir, 'unpriced.db')}` },
    });
    const devServer = await startServer({ runtime: unpriced, host: '127.0.0.1', port: 0, apiKeys: [], console: true, bootKey: { key: 'tw_test_dev_boot_9c2e4a7f1b3d', name: 'dev' } });
    const errors: string[] = [];
    let opened: Page | undefined;
    try {
      const thread = await unpriced.launch({ agent: 'echo', input: 'hi' });
      expect((await unpriced.runThread(thread.id)).outcome).toBe('completed');
      const page = (opened = await newPage());
      // This page's own errors: an earlier test's page may still poll a server that has closed.
      page.on('pageerror', (error) => errors.push(error.message));
      await page.goto(`${devServer.url}/#/threads/${thread.id}`);
      await eventually(() => page.getByTestId('thread-cost').textContent()).toBe('price unknown (1 call)');
      expect(await page.getByTestId('price-unknown').getAttribute('title')).toBe('1 model call had no known price (set TWELVE_MODEL_PRICES)');
      expect(await page.getByTestId('model-call').first().textContent()).toContain('price unknown');
      await page.goto(`${devServer.url}/#/threads`);
      const row = page.locator(`[data-testid="thread-row"][data-id="${thread.id}"]`);
      await row.waitFor();
      expect(await row.locator('[data-label="Cost"]').textContent()).toBe('price unknown (1 call)');
      expect(errors).toEqual([]);
    } finally {
      await opened?.close();
      await devServer.close();
      await unpriced.close();
    }
  }, 30_000);

  it('shows the confidence of an output and a "fallback" badge when the non-LLM fallback answered', async () => {
    // No provider key: no model can be called, so the classifier's keyword rules answer (reason blocked).
    const blocked = createRuntime({ agents: [emailClassifier], env: { TWELVE_DATABASE_URL: `sqlite:${join(dir, 'fallback.db')}`, TWELVE_LOG: 'off' } });
    const devServer = await startServer({ runtime: blocked, host: '127.0.0.1', port: 0, apiKeys: [], console: true, bootKey: { key: 'tw_test_dev_boot_3f7a1c9e5b2d', name: 'dev' } });
    const errors: string[] = [];
    let opened: Page | undefined;
    try {
      const thread = await blocked.launch({ agent: 'email-classifier', input: 'I forgot my password and cannot log in.' });
      expect((await blocked.runThread(thread.id)).outcome).toBe('completed');
      const page = (opened = await newPage());
      page.on('pageerror', (error) => errors.push(error.message));
      await page.goto(`${devServer.url}/#/threads/${thread.id}`);
      const header = page.getByTestId('thread-header');
      await eventually(() => header.getByTestId('thread-confidence').textContent()).toBe('0.40');
      expect(await header.getByTestId('fallback-badge').textContent()).toBe('fallback');
      expect(await header.getByTestId('fallback-badge').getAttribute('data-reason')).toBe('blocked');
      expect(await header.getByTestId('fallback-banner').textContent()).toMatch(/^Answered by the non-LLM fallback \(blocked\), not a model: .*OPENAI_API_KEY is not set/);
      await eventually(() => page.getByTestId('thread-fallback').textContent()).toContain('Answered by the non-LLM fallback (blocked)');
      expect(await page.getByTestId('completed-confidence').textContent()).toBe('confidence 0.40');
      await page.screenshot({ path: screenshot('fallback-thread'), fullPage: true });
      await page.goto(`${devServer.url}/#/threads`);
      const row = page.locator(`[data-testid="thread-row"][data-id="${thread.id}"]`);
      await row.waitFor();
      expect(await row.getByTestId('thread-confidence').textContent()).toBe('0.40');
      expect(await row.getByTestId('fallback-badge').textContent()).toBe('fallback');
      await page.screenshot({ path: screenshot('fallback'), fullPage: true });
      await page.goto(`${devServer.url}/#/agents`);
      const card = page.locator('[data-testid="agent-card"][data-agent="email-classifier"]');
      await card.waitFor();
      expect(await card.getByTestId('agent-fallback').locator('dd').textContent()).toBe('answers when every model failed or no model can be called');
      expect(await card.getByTestId('agent-confidence').locator('dd').textContent()).toBe('output field confidence');
      expect(errors).toEqual([]);
    } finally {
      await opened?.close();
      await devServer.close();
      await blocked.close();
    }
  }, 30_000);
});
