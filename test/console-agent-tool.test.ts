/**
 * Agents as tools in the web console, in a real browser (playwright-core driving Debian
 * chromium) against the real HTTP server: a child thread waiting for approval shows in the inbox
 * with its parent; the parent's page shows a small tree linking to the child, the child's page
 * links back to the parent, and the parent waits as "Waiting for a child".
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRuntime, type Runtime } from '../src/index.js';
import { parseApiKeys } from '../src/server/auth.js';
import { startServer, type RunningServer } from '../src/server/serve.js';
import { consoleBrowser, eventually, tearDown } from './support/browser.js';
import { agentToolAgents, routeByRole } from './support/agent-tool-agents.js';
import { startScriptedOpenAIServer, type ScriptedServer } from './support/scripted-openai-server.js';

const aliceKey = 'tw_test_alice_6f1c0b9e4d2a8c73';
const browser = consoleBrowser({ key: aliceKey });
const { newPage, errors: pageErrors } = browser;
let dir: string;
let runtime: Runtime;
let server: RunningServer;
let model: ScriptedServer;

async function signIn(page: Page, path: string): Promise<void> {
  await page.goto(`${server.url}/#${path}`);
  await page.getByTestId('api-key-input').fill(aliceKey);
  await page.getByTestId('sign-in').click();
  await eventually(() => page.getByTestId('me').textContent()).toContain('alice');
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'twelve-console-agent-tool-'));
  model = await startScriptedOpenAIServer();
  model.setFallback(routeByRole);
  const { parent, child } = agentToolAgents({ childApproval: true });
  runtime = createRuntime({
    agents: [parent, child],
    retryBaseMs: 1,
    env: { TWELVE_DATABASE_URL: `sqlite:${join(dir, 'twelve.db')}`, TWELVE_LOG: 'off', OPENAI_API_KEY: 'sk-test-4f9c2a7b1e8d6035', OPENAI_BASE_URL: model.baseURL },
  });
  runtime.startWorker({ pollMs: 50 });
  server = await startServer({ runtime, host: '127.0.0.1', port: 0, apiKeys: parseApiKeys(`alice=operator,approver,reader=${aliceKey}`), console: true });
  await browser.open({ dir, url: server.url });
}, 60_000);
afterAll(async () => {
  await tearDown({ open: [browser, server, runtime], dir });
  await model.close();
});

describe('agents as tools in the console', () => {
  it('shows the child in the inbox with its parent, and links parent and child both ways', async () => {
    const parent = await runtime.launch({ agent: 'triage', input: 'Refund A-1001 please' });
    const childId = await eventually(async () => (await runtime.store.listChildren(parent.id))[0]?.status).toBe('awaiting_approval').then(async () => (await runtime.store.listChildren(parent.id))[0]!.id);

    const page = await newPage();
    await signIn(page, '/inbox');
    await eventually(() => page.getByTestId('inbox-parent').first().textContent()).toContain(parent.id);

    await page.goto(`${server.url}/#/threads/${parent.id}`);
    await eventually(() => page.getByTestId('thread-status').textContent()).toContain('Waiting for a child');
    await eventually(() => page.getByTestId('thread-child').first().textContent()).toBe(childId);
    await page.getByTestId('thread-child').first().click();
    await eventually(() => page.getByTestId('thread-id').textContent()).toBe(childId);
    await eventually(() => page.getByTestId('thread-parent').textContent()).toBe(parent.id);
    await page.screenshot({ path: join(tmpdir(), 'twelve-console-agent-tool.png'), fullPage: true });
    await page.getByTestId('thread-parent').click();
    await eventually(() => page.getByTestId('thread-id').textContent()).toBe(parent.id);
    expect(pageErrors).toEqual([]);
  }, 60_000);
});
