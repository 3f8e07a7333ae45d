/**
 * The console's quality loop in a real browser (playwright-core + Debian chromium) against the
 * real server, a worker and the refunds example replayed from its recordings: the Evals page
 * charts stored runs by release and opens a run's per-case results; a refund rejected with a
 * comment shows its proposed case beside the thread, where Accept writes it into the server
 * project's suite; the Proposals page dismisses another.
 *
 * Screenshots for design review: /tmp/twelve-console-{evals,thread-proposal}.png.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import refunds from '../examples/refunds/agent.js';
import { readSuiteFile } from '../src/eval/suite-file.js';
import { createRuntime, type Runtime } from '../src/index.js';
import { parseApiKeys } from '../src/server/auth.js';
import { startServer, type RunningServer } from '../src/server/serve.js';
import { consoleBrowser, eventually, tearDown } from './support/browser.js';
import { evalRunRecord } from './support/eval-runs.js';

const aliceKey = 'tw_test_alice_6f1c0b9e4d2a8c73';
const largeRequest = readFileSync(new URL('../examples/refunds/sample-large.txt', import.meta.url), 'utf8').trim();
const screenshot = (name: string) => join(tmpdir(), `twelve-console-${name}.png`);

const browser = consoleBrowser({ key: aliceKey });
const { api, newPage, errors: pageErrors } = browser;
let dir: string;
let runtime: Runtime;
let server: RunningServer;

const run = (id: string, releaseId: string, createdAt: string, passed: number, failed: number) => evalRunRecord(id, releaseId, createdAt, passed, failed, { casePrefix: 'refund-case' });

/** Launches a refund above the threshold and rejects it with a comment over the API: its thread id. */
async function rejectedRefund(comment: string): Promise<string> {
  const launched = await api<{ thread: { id: string } }>('/v1/threads', { method: 'POST', body: { agent: 'refunds', input: largeRequest } });
  const threadId = launched.body.thread.id;
  await eventually(async () => (await api(`/v1/threads/${threadId}`)).body.status).toBe('awaiting_approval');
  expect((await api(`/v1/threads/${threadId}/approvals`, { method: 'POST', body: { approved: false, comment } })).status).toBe(200);
  return threadId;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'twelve-console-evals-'));
  process.env.REFUNDS_LEDGER_PATH = join(dir, 'ledger.db');
  runtime = createRuntime({
    agents: [refunds],
    env: { TWELVE_DATABASE_URL: `sqlite:${join(dir, 'twelve.db')}`, TWELVE_MODEL_MODE: 'replay', TWELVE_HUMANS: 'alice=finance', TWELVE_LOG: 'off' },
  });
  runtime.startWorker({ pollMs: 100 });
  server = await startServer({ runtime, host: '127.0.0.1', port: 0, apiKeys: parseApiKeys(`alice=operator,approver,reader=${aliceKey}`), console: true, projectDir: join(dir, 'project') });
  await browser.open({ dir, url: server.url });
  // Signed in once for every page of the context.
  await browser.context.addInitScript((key) => (globalThis as unknown as { localStorage: { setItem(k: string, v: string): void } }).localStorage.setItem('twelve.apiKey', key), aliceKey);
}, 60_000);

afterAll(() => tearDown({ open: [browser, server, runtime], env: ['REFUNDS_LEDGER_PATH'], dir }));

describe('the console: evals and proposed cases', () => {
  it('charts stored runs by release and shows a run\'s per-case results on click', async () => {
    await runtime.store.saveEvalRun(run('ev_1', 'rel_aaaaaaaaaaaaaaaa', '2026-11-30T10:00:00.000Z', 4, 0));
    await runtime.store.saveEvalRun(run('ev_2', 'rel_bbbbbbbbbbbbbbbb', '2026-12-01T10:00:00.000Z', 3, 1));
    await runtime.store.saveEvalRun(run('ev_3', 'rel_cccccccccccccccc', '2026-12-01T11:00:00.000Z', 4, 0));
    const page = await newPage();
    await page.goto(`${server.url}/#/evals`);
    const agentRow = page.locator('[data-testid="evals-agent-row"][data-agent="refunds"]');
    await agentRow.waitFor();
    expect(await agentRow.textContent()).toContain('rel_cccccccccccccccc');
    await agentRow.getByTestId('evals-agent-link').click();

    const points = page.getByTestId('trend-point');
    await eventually(() => points.count()).toBe(3);
    expect(await points.evaluateAll((els) => els.map((el) => [el.getAttribute('data-release'), el.getAttribute('data-score')]))).toEqual([
      ['rel_aaaaaaaaaaaaaaaa', '1.00'],
      ['rel_bbbbbbbbbbbbbbbb', '0.75'],
      ['rel_cccccccccccccccc', '1.00'],
    ]);
    const rows = page.getByTestId('eval-run-row');
    expect(await rows.evaluateAll((els) => els.map((el) => el.getAttribute('data-id')))).toEqual(['ev_3', 'ev_2', 'ev_1']);
    const second = rows.nth(1);
    expect(await second.getByTestId('run-date').textContent()).toBe('2026-12-01 10:00');
    expect(await second.getByTestId('run-passed').textContent()).toBe('3');
    expect(await second.getByTestId('run-failed').textContent()).toBe('1');
    expect(await second.getByTestId('run-score').textContent()).toBe('0.75');

    await second.click();
    const detail = page.getByTestId('run-detail');
    await detail.waitFor();
    expect(await detail.getByTestId('case-row').count()).toBe(4);
    const failedCase = detail.locator('[data-testid="case-row"][data-pass="false"]');
    expect(await failedCase.getByTestId('case-why').textContent()).toBe('output: decision: expected "declined", got "refunded"');
    await page.screenshot({ path: screenshot('evals'), fullPage: true });
    expect(pageErrors).toEqual([]);
  }, 30_000);

  it('shows a rejection\'s proposed case beside its thread, accepts it into the project suite, and dismisses another on the Proposals page', async () => {
    const threadId = await rejectedRefund('leaks go to warranty repair first; never refund above $100 without photos');
    const page = await newPage();
    await page.goto(`${server.url}/#/threads/${threadId}`);
    const card = page.getByTestId('thread-proposals').getByTestId('proposal');
    await card.waitFor();
    expect(await card.getByTestId('proposal-kind').textContent()).toBe('Rejection');
    expect(await card.getByTestId('proposal-note').textContent()).toBe('leaks go to warranty repair first; never refund above $100 without photos');
    const caseId = (await card.getByTestId('proposal-case-id').textContent())!;
    expect(caseId).toMatch(new RegExp(`^refunds-rejection-${threadId.slice(-6)}-\\d+$`));
    await card.locator('summary').click();
    expect(await card.getByTestId('proposal-draft').textContent()).toContain('"tool": "issue_refund"');
    await page.screenshot({ path: screenshot('thread-proposal'), fullPage: true });

    await card.getByTestId('proposal-accept').click();
    await eventually(() => page.getByTestId('thread-proposals').getByTestId('proposal-status').textContent()).toBe('accepted');
    expect(await page.getByTestId('toast').first().textContent()).toContain(`Case ${caseId} added to evals/refunds.jsonl`);
    const suite = readSuiteFile(join(dir, 'project', 'evals', 'refunds.jsonl'));
    expect(suite.map((c) => c.id)).toEqual([caseId]);
    expect(suite[0]).toMatchObject({ expect: { tools: { never: [{ tool: 'issue_refund' }] } }, source: { threadId, kind: 'rejection', by: 'alice' } });

    const other = await rejectedRefund('duplicate request');
    await page.goto(`${server.url}/#/proposals`);
    const pending = page.locator(`[data-testid="proposal"][data-status="pending"]`);
    await eventually(() => pending.count()).toBe(1);
    expect(await pending.getByTestId('proposal-thread').textContent()).toBe(other);
    await pending.getByTestId('proposal-dismiss').click();
    await page.getByTestId('proposals-empty').waitFor();
    await page.getByTestId('proposals-dismissed').click();
    await eventually(() => page.locator('[data-testid="proposal"][data-status="dismissed"]').count()).toBe(1);
    expect(await page.getByTestId('proposal-decided').textContent()).toBe('dismissed by alice');
    expect(readSuiteFile(join(dir, 'project', 'evals', 'refunds.jsonl'))).toHaveLength(1);
    expect(pageErrors).toEqual([]);
  }, 60_000);
});
