/**
 * Redaction with the user's patterns (TWELVE_REDACT_PATTERNS): an email and a card number in a
 * thread's input show redacted in the logs, the API and the console (real chromium), while the
 * stored log keeps what the agent saw; an agent with redactAtWrite never stores them; a bad
 * pattern is a configuration error naming the variable and the pattern.
 */
import { PassThrough } from 'node:stream';
import { describe, expect, it, onTestFinished } from 'vitest';
import { defineAgent } from '../src/index.js';
import { loadConfig } from '../src/config/env.js';
import { Redactor } from '../src/config/redact.js';
import { parseRedactPatterns } from '../src/config/redact-patterns.js';
import { createLogger } from '../src/log/logger.js';
import { createRelease } from '../src/agent/release.js';
import { apiAgents, keys, startApi, waitForStatus } from './support/api.js';
import { consoleBrowser, eventually } from './support/browser.js';
import { runCli } from './support/cli.js';
import { tempDir } from './support/temp-dir.js';

const email = 'jane.doe@example.com';
const card = '4111 1111 1111 1111';
const input = `Refund order A-1001 for ${email}, paid with card ${card}`;
const patterns = 'email,card';

/** A JSON logger (what TWELVE_LOG=json writes) into memory, with the runtime's view redaction. */
function memoryLog(env: NodeJS.ProcessEnv) {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (chunk) => (text += chunk));
  return { logger: createLogger({ format: 'json', level: 'info', redactor: Redactor.forViews(env), destination: stream }), text: () => text };
}

describe('redaction patterns', () => {
  it('redacts emails, card numbers (Luhn-checked), phones and custom regexes in strings, never numbers or timestamps', () => {
    const redactor = new Redactor([], parseRedactPatterns('email, card, phone, /ACME-\\d{3,6}/i'));
    const value = {
      text: `mail ${email} or call +1 415-555-0132, card ${card}, ref acme-12345`,
      notACard: '4111 1111 1111 1112',
      at: '2026-12-02T03:41:14.000Z',
      epochMs: 1764645000000,
      nested: [{ who: 'x@y.io' }],
    };
    expect(redactor.scrub(value)).toEqual({
      text: 'mail [redacted:email] or call [redacted:phone], card [redacted:card], ref [redacted]',
      notACard: '4111 1111 1111 1112',
      at: '2026-12-02T03:41:14.000Z',
      epochMs: 1764645000000,
      nested: [{ who: '[redacted:email]' }],
    });
    const clean = { text: 'nothing here' };
    expect(redactor.scrub(clean)).toBe(clean); // no copy when nothing matches
  });

  it('rejects an invalid or unknown pattern with a config error naming the variable and the pattern', async () => {
    expect(() => loadConfig({ TWELVE_REDACT_PATTERNS: 'email,/([a-z/' })).toThrow(/TWELVE_REDACT_PATTERNS: \/\(\[a-z\/ is not a valid regular expression/);
    expect(() => loadConfig({ TWELVE_REDACT_PATTERNS: 'email,ssn' })).toThrow(/TWELVE_REDACT_PATTERNS: "ssn" is neither a built-in pattern \(email, card, phone\) nor a \/regex\//);
    expect(() => loadConfig({ TWELVE_REDACT_PATTERNS: '/a*/' })).toThrow(/matches the empty string/);
    expect(loadConfig({ TWELVE_REDACT_PATTERNS: 'email, /\\d{3,4}-x/' }).redactPatterns.map((p) => p.name)).toEqual(['email', '/\\d{3,4}-x/']);
    const dir = tempDir();
    const cli = await runCli(['threads', 'ls'], { env: { TWELVE_DATABASE_URL: `sqlite:${dir}/twelve.db`, TWELVE_REDACT_PATTERNS: 'card,/(oops/' } });
    expect(cli.code).toBe(2);
    expect(cli.stderr).toContain('TWELVE_REDACT_PATTERNS: /(oops/ is not a valid regular expression');
  });

  it('shows an email and a card number redacted in logs, the API and the console, while the stored log keeps them', async () => {
    const env = { TWELVE_REDACT_PATTERNS: patterns, TWELVE_LOG: 'json' };
    const log = memoryLog(env);
    const api = await startApi({ env, logger: log.logger, worker: true, console: true });
    const launched = await api.call('POST', '/v1/threads', { key: 'ops', body: { agent: 'echo', input } });
    expect(launched.status).toBe(201);
    expect(launched.text).not.toContain(email);
    const id = launched.body.thread.id as string;
    await waitForStatus(api, id, ['completed']);

    // The API: the thread, its events and its stream.
    const thread = await api.call('GET', `/v1/threads/${id}`, { key: 'reader' });
    expect(thread.body.input).toBe('Refund order A-1001 for [redacted:email], paid with card [redacted:card]');
    expect(thread.body.output).toContain('[redacted:email]');
    const events = await api.call('GET', `/v1/threads/${id}/events`, { key: 'reader' });
    expect(events.text).not.toContain(email);
    expect(events.text).not.toContain(card);
    expect(events.body.events[0].data.input).toContain('[redacted:card]');
    const stream = await fetch(`${api.url}/v1/threads/${id}/stream`, { headers: { authorization: `Bearer ${keys.reader.key}` } });
    const frames = await stream.text();
    expect(frames).toContain('[redacted:email]');
    expect(frames).not.toContain(email);

    // The store keeps what the agent saw.
    const stored = await api.runtime.store.loadEvents(id);
    expect(stored[0]!.data).toMatchObject({ input });
    expect((await api.runtime.store.getThread(id))!.input).toBe(input);

    // The logs (every event at info with TWELVE_LOG=json): redacted, and still one JSON object per line.
    const lines = log.text().trim().split('\n').map((line) => JSON.parse(line));
    expect(lines.some((line) => line.type === 'thread_started')).toBe(true);
    expect(log.text()).not.toContain(email);
    expect(log.text()).not.toContain(card);
    expect(log.text()).toContain('[redacted:card]');

    // The CLI's views of the same store.
    const cliEnv = { TWELVE_DATABASE_URL: `sqlite:${api.dbFile}`, TWELVE_REDACT_PATTERNS: patterns };
    const [shown, listed] = await Promise.all([runCli(['threads', 'show', id], { env: cliEnv }), runCli(['threads', 'ls', '--json'], { env: cliEnv })]);
    expect(shown.stdout).toContain('[redacted:email]');
    for (const out of [shown.stdout, listed.stdout]) expect(out).not.toContain(email);

    // The console, in chromium.
    const browser = consoleBrowser({ key: keys.reader.key });
    onTestFinished(() => browser.close());
    await browser.open({ dir: api.dir, url: api.url });
    const page = await browser.newPage();
    await page.goto(`${api.url}/#/threads/${id}`);
    await page.getByTestId('api-key-input').fill(keys.reader.key);
    await page.getByTestId('sign-in').click();
    await eventually(() => page.getByTestId('thread-input').first().textContent()).toContain('[redacted:email]');
    const pageText = await page.locator('body').textContent();
    expect(pageText).toContain('[redacted:card]');
    expect(pageText).not.toContain(email);
    expect(pageText).not.toContain(card);
    expect(browser.errors).toEqual([]);
  }, 60_000);

  it('twelve run prints the thread as people see it: the user\'s patterns apply', async () => {
    const dir = tempDir();
    const env = { TWELVE_DATABASE_URL: `sqlite:${dir}/twelve.db`, TWELVE_MODEL_MODE: 'replay', TWELVE_REDACT_PATTERNS: '/Charged twice/' };
    const run = await runCli(['run', 'email-classifier', '--input', '@examples/email-classifier/sample-email.txt'], { env });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).not.toContain('Charged twice');
    expect(run.stdout).toContain('[redacted');
    const json = await runCli(['run', 'email-classifier', '--input', '@examples/email-classifier/sample-email.txt', '--json'], { env });
    expect(json.code, json.stderr).toBe(0);
    expect(json.stdout).not.toContain('Charged twice');
  }, 60_000);

  it('with redactAtWrite the agent never stores them (and says so in its release), without patterns nothing changes', async () => {
    const careful = defineAgent({ name: 'careful', purpose: 'Echoes, storing no personal data', model: 'scripted:echo', prompt: { text: 'Echo {{input}}' }, redactAtWrite: true });
    const fixtures = apiAgents();
    const api = await startApi({ env: { TWELVE_REDACT_PATTERNS: patterns }, agents: [...fixtures.agents, careful], models: fixtures.models, worker: true });
    const launched = await api.call('POST', '/v1/threads', { key: 'ops', body: { agent: 'careful', input } });
    const id = launched.body.thread.id as string;
    await waitForStatus(api, id, ['completed']);
    const stored = JSON.stringify(await api.runtime.store.loadEvents(id));
    expect(stored).not.toContain(email);
    expect(stored).not.toContain(card);
    expect(stored).toContain('[redacted:email]');
    expect((await api.runtime.store.getThread(id))!.input).toBe('Refund order A-1001 for [redacted:email], paid with card [redacted:card]');

    // Another agent on the same runtime stores what it saw.
    const plain = await api.call('POST', '/v1/threads', { key: 'ops', body: { agent: 'echo', input } });
    expect((await api.runtime.store.getThread(plain.body.thread.id))!.input).toBe(input);

    expect(createRelease(careful).manifest.redactAtWrite).toBe(true);
    expect(createRelease(fixtures.agents.find((a) => a.name === 'echo')!).manifest).not.toHaveProperty('redactAtWrite');
    expect(() => defineAgent({ name: 'bad', purpose: 'x', model: 'scripted:echo', prompt: { text: 'x' }, redactAtWrite: 'yes' as unknown as boolean })).toThrow(/redactAtWrite must be true or false/);
  }, 30_000);
});
