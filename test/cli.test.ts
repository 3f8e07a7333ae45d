/** The `twelve` command as a user meets it: live output, JSON mode, exit codes, and one-line errors. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { supportAgent } from './support/agents.js';
import { eventually, repoRoot, runCli, startCli } from './support/cli.js';
import { makeRuntime, startServer, testApiKey } from './support/runtime.js';
import { tempDir } from './support/temp-dir.js';

const fixture = 'test/fixtures/strict-answer-agent.ts';

function dbEnv(extra: NodeJS.ProcessEnv = {}) {
  const dir = tempDir();
  return { dir, env: { TWELVE_DATABASE_URL: `sqlite:${join(dir, 'twelve.db')}`, REFUNDS_LEDGER_PATH: join(dir, 'ledger.db'), ...extra } };
}

describe('twelve run', () => {
  it('stops quietly when the reader of its output goes away (| head), instead of crashing on EPIPE', async () => {
    const { spawn } = await import('node:child_process');
    const { env } = dbEnv({ TWELVE_MODEL_MODE: 'replay' });
    const child = spawn(process.execPath, ['bin/twelve.js', 'run', 'triage', '--input', '@examples/triage/sample-refund.txt'], {
      cwd: repoRoot,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    // Like `head -1`: read the first line, then close the pipe while the thread still prints its steps.
    child.stdout.once('data', () => child.stdout.destroy());
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(stderr).not.toMatch(/EPIPE|Unhandled/);
    expect(code).toBe(0);
  });

  it('runs the refunds example offline from recordings and prints every step', async () => {
    const { env } = dbEnv({ TWELVE_MODEL_MODE: 'replay' });
    const result = await runCli(['run', 'refunds', '--input', '@examples/refunds/sample-request.txt'], { env });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^th_\w+ {2}agent refunds {2}release rel_[0-9a-f]{16}$/m);
    expect(result.stdout).toMatch(/model +openai:gpt-4o-2024-08-06 +412→18 tok +\$0\.00121 .*→ lookup_order/);
    expect(result.stdout).toMatch(/tool call +issue_refund \{"orderId":"A-1001","amountCents":4999/);
    expect(result.stdout).toMatch(/tool result +issue_refund \{"refundId":"rf_/);
    expect(result.stdout).toMatch(/completed +\{"decision":"refunded"/);
  });

  it('waits for approval of a refund above the threshold (exit 4), and completes once an approver approves it', async () => {
    const { dir, env } = dbEnv({ TWELVE_MODEL_MODE: 'replay', TWELVE_HUMANS: 'fiona@example.com=finance;sam@example.com=support' });
    const run = await runCli(['run', 'refunds', '--input', '@examples/refunds/sample-large.txt'], { env });
    expect(run.code).toBe(4);
    expect(run.stdout).toMatch(/approval\? +issue_refund \{"orderId":"A-1005".*above the 10000-cent approval threshold \(approvers: roles finance, support-lead\)/);
    expect(run.stdout).not.toMatch(/tool result +issue_refund/);
    const threadId = run.stdout.split(/\s+/)[0]!;
    expect(run.stderr).toContain(`${threadId} waits for approval`);
    expect(run.stderr).toContain(`twelve approve ${threadId} --as <you>`);

    const inbox = await runCli(['inbox'], { env });
    expect(inbox.stdout).toMatch(new RegExp(`^${threadId} +refunds +awaiting_approval +approval for issue_refund`, 'm'));

    const forbidden = await runCli(['approve', threadId, '--as', 'sam@example.com'], { env });
    expect(forbidden.code).toBe(2);
    expect(forbidden.stderr).toMatch(/sam@example.com may not decide on issue_refund: allowed are anyone with the role finance or support-lead; sam@example.com has the roles support/);

    const approved = await runCli(['approve', threadId, '--as', 'fiona@example.com', '--comment', 'checked the photos', '--run'], { env });
    expect(approved.stderr).toBe('');
    expect(approved.code).toBe(0);
    expect(approved.stdout).toMatch(/approved +issue_refund approved by fiona@example.com: "checked the photos"/);
    expect(approved.stdout).toMatch(/tool result +issue_refund \{"refundId":"rf_/);
    expect(approved.stdout).toMatch(/completed +\{"decision":"refunded","orderId":"A-1005"/);
    const ledger = new Database(join(dir, 'ledger.db'), { readonly: true });
    try {
      expect(ledger.prepare('SELECT order_id FROM refunds').pluck().all()).toEqual(['A-1005']);
    } finally {
      ledger.close();
    }
  });

  it('prints one JSON event per line with --json, reading the input from stdin', async () => {
    const { env } = dbEnv({ TWELVE_MODEL_MODE: 'replay' });
    const input = "Hello, I want to return the desk lamp from order A-1002. I just never got around to opening it. Refund please!\n";
    const result = await runCli(['run', 'refunds', '--input', '-', '--json'], { env, input });
    expect(result.code).toBe(0);
    const events = result.stdout.trim().split('\n').map((line) => JSON.parse(line));
    expect(events.map((e) => e.seq)).toEqual(events.map((_: unknown, i: number) => i + 1));
    expect(events[0]).toMatchObject({ type: 'thread_started', data: { agent: 'refunds' } });
    expect(events.at(-1)).toMatchObject({ type: 'thread_completed', data: { output: { decision: 'declined', orderId: 'A-1002' } } });
    expect(new Set(events.map((e) => e.releaseId)).size).toBe(1);
  });

  it('writes each event as a JSON log line on stderr with TWELVE_LOG=json, without secrets', async () => {
    const { env } = dbEnv({ TWELVE_MODEL_MODE: 'replay', TWELVE_LOG: 'json', OPENAI_API_KEY: testApiKey });
    const result = await runCli(['run', 'email-classifier', '--input', '@examples/email-classifier/sample-email.txt'], { env });
    expect(result.code).toBe(0);
    const lines = result.stderr.trim().split('\n').map((line) => JSON.parse(line));
    expect(lines.map((l) => l.type)).toEqual(['thread_started', 'model_called', 'thread_completed']);
    for (const line of lines) expect(line).toMatchObject({ threadId: expect.stringMatching(/^th_/), seq: expect.any(Number), releaseId: expect.stringMatching(/^rel_/) });
    expect(result.stderr + result.stdout).not.toContain(testApiKey);
  });

  it('exits 4 when the thread escalates to a human, and resume continues it with guidance', async () => {
    const server = await startServer();
    const { env } = dbEnv({ OPENAI_API_KEY: testApiKey, OPENAI_BASE_URL: server.baseURL });
    server.enqueue({ text: 'sure! the answer is 42' }, { text: '{"wrong": true}' });
    const run = await runCli(['run', fixture, '--input', 'what is six times seven?'], { env });
    expect(run.code).toBe(4);
    expect(run.stdout).toMatch(/bad answer +invalid_json/);
    expect(run.stdout).toMatch(/bad answer +invalid_output: answer: /);
    expect(run.stdout).toMatch(/escalated +2 consecutive errors/);
    const threadId = run.stdout.split(/\s+/)[0]!;
    expect(run.stderr).toContain(`${threadId} waits for a human: escalated: 2 consecutive errors`);
    expect(run.stderr).toContain(`twelve answer ${threadId} --as <you>`);

    server.enqueue({ text: '{"answer": "42"}' });
    const resumed = await runCli(['resume', threadId, '--config', fixture, '--as', 'ops@example.com', '--comment', 'Reply with {"answer": "..."} only.'], { env });
    expect(resumed.stderr).toBe('');
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toMatch(/resumed +by ops@example.com: "Reply with/);
    const lastRequest = server.requests.at(-1)!.body!.messages as Array<{ role: string; content: string }>;
    expect(lastRequest.at(-1)).toMatchObject({ role: 'user', content: expect.stringContaining('A human operator (ops@example.com) says: Reply with') });

    const show = await runCli(['threads', 'show', threadId], { env });
    expect(show.code).toBe(0);
    expect(show.stdout).toMatch(new RegExp(`^${threadId} +completed`, 'm'));
    expect(show.stdout).toMatch(/escalated/);
    expect(show.stdout).toMatch(/\+\d+\.\d{3}s +\d+ +completed +\{"answer":"42"\}/);
  });

  it('exits 4 when the thread stops at its max-steps budget; budget --run raises it and continues', async () => {
    const server = await startServer();
    const { env } = dbEnv({ OPENAI_API_KEY: testApiKey, OPENAI_BASE_URL: server.baseURL });
    server.setFallback(() => ({ toolCalls: [{ name: 'ping', arguments: {} }] }));
    const run = await runCli(['run', fixture, '--input', 'loop forever'], { env });
    expect(run.code).toBe(4);
    expect(run.stdout).toMatch(/budget +steps: reached the limit of 4 model steps without a final answer/);
    expect(run.stdout).not.toMatch(/failed/);
    const threadId = run.stdout.split(/\s+/)[0]!;
    expect(run.stderr).toContain(`${threadId} waits for a human: budget: reached the limit of 4 model steps`);
    expect(run.stderr).toContain(`twelve budget ${threadId} --as <you>`);
    expect(server.requests).toHaveLength(4);

    // A limit the thread has already used up is refused, saying what is used (nothing is recorded).
    const tooLow = await runCli(['budget', threadId, '--config', fixture, '--as', 'ops@example.com', '--max-steps', '4'], { env });
    expect(tooLow.code).not.toBe(0);
    expect(tooLow.stderr).toBe(
      `twelve: thread ${threadId} cannot take a limit of 4 model steps when 4 are already taken: it could never take another step. Set a limit above what is used to let it go on, or stop it with cancel (or pause)\n`,
    );
    const raised = await runCli(['budget', threadId, '--config', fixture, '--as', 'ops@example.com', '--max-steps', '5', '--run'], { env });
    expect(raised.stderr).toMatch(/waits for a human: budget: reached the limit of 5 model steps/);
    expect(raised.code).toBe(4);
    expect(raised.stdout).toMatch(/budget +raised by ops@example.com: max steps 5 \(was 4\)/);
    expect(server.requests).toHaveLength(5);
  });

  it('exits 3 when a person cancels the thread the run is waiting on (--wait)', async () => {
    const server = await startServer();
    const { env } = dbEnv({ OPENAI_API_KEY: testApiKey, OPENAI_BASE_URL: server.baseURL });
    server.setFallback(() => ({ toolCalls: [{ name: 'ping', arguments: {} }] }));
    const live = startCli(['run', fixture, '--input', 'loop forever', '--wait'], { env });
    const threadId = (await live.waitForLine(/^th_/)).split(/\s+/)[0]!;
    // The run has stopped at its budget and watches the store for a person's action.
    await eventually(() => live.output().includes('waiting here until then'));

    const cancel = await runCli(['cancel', threadId, '--config', fixture, '--as', 'ops@example.com', '--reason', 'runaway loop'], { env });
    expect(cancel.stderr).toBe('');
    expect(cancel.code).toBe(0);
    expect(cancel.stdout).toMatch(/cancelled +by ops@example.com: runaway loop/);

    expect((await live.exited).code).toBe(3);
    expect(live.output()).toMatch(/cancelled +by ops@example.com: runaway loop/);
    const show = await runCli(['threads', 'show', threadId], { env });
    expect(show.stdout).toMatch(new RegExp(`^${threadId} +cancelled`, 'm'));
    expect(server.requests).toHaveLength(4);
  });

  it('exits 3 when the thread fails, here because its prefetch cannot build its arguments', async () => {
    const { env } = dbEnv({ OPENAI_API_KEY: testApiKey });
    const run = await runCli(['run', 'test/fixtures/prefetch-agent.ts', '--input', 'where is my order?'], { env });
    expect(run.code).toBe(3);
    expect(run.stdout).toMatch(/failed +prefetch_failed: prefetch arguments could not be built: the input names no order id/);
  });
});

describe('twelve threads and agents', () => {
  it('lists threads with a status filter and shows agents with their pinned models', async () => {
    const { env } = dbEnv({ TWELVE_MODEL_MODE: 'replay' });
    await runCli(['run', 'refunds', '--input', '@examples/refunds/sample-request.txt'], { env });
    const ls = await runCli(['threads', 'ls', '--status', 'completed'], { env });
    expect(ls.code).toBe(0);
    expect(ls.stdout).toMatch(/^THREAD +AGENT +STATUS/);
    expect(ls.stdout).toMatch(/th_\w+ +refunds +completed +3 +1570/);
    const none = await runCli(['threads', 'ls', '--status', 'awaiting_approval,awaiting_human'], { env });
    expect(none.stdout.trim()).toBe('no threads');
    // Escalated threads wait for a human: "escalated" is no longer a status of its own.
    const retired = await runCli(['threads', 'ls', '--status', 'escalated'], { env });
    expect(retired.code).toBe(2);
    expect(retired.stderr).toMatch(/--status: "escalated" is not a status \(runnable, awaiting_approval, awaiting_human,/);
    const agents = await runCli(['agents', 'ls'], { env });
    expect(agents.stdout).toMatch(/refunds +openai:gpt-4o-2024-08-06 +anthropic:claude-sonnet-4-5-20250929 +lookup_order,issue_refund +rel_/);
    // Under each agent, its quality settings: the classifier's keyword fallback and confidence field, each suite with its cases.
    expect(agents.stdout).toMatch(/^refunds .*\n {2}review: never {2}fallback: none {2}confidence: none {2}evals: refunds \(evals\/refunds\.jsonl, \d+ cases\)$/m);
    expect(agents.stdout).toMatch(/^email-classifier .*\n {2}review: never {2}fallback: on models_failed,blocked {2}confidence: field confidence {2}evals: email-classifier \(evals\/email-classifier\.jsonl, \d+ cases\)$/m);
  });

  it('lists each agent\'s review, fallback, confidence and suites, and names the first problem of a broken suite instead of failing', async () => {
    const dir = tempDir();
    const twelve = pathToFileURL(join(repoRoot, 'dist/index.js')).href;
    writeFileSync(
      join(dir, 'twelve.config.mjs'),
      `import { defineAgent, defineConfig, defineEval } from '${twelve}';
const checked = defineAgent({ name: 'checked', purpose: 'Reviewed answers', model: 'openai:gpt-4o-2024-08-06', prompt: { text: 'Answer {{input}}' },
  review: 'always', reviewers: { roles: ['finance'], people: ['ann'] }, reviewTimeoutMs: 7_200_000, onReviewTimeout: 'approve',
  confidence: (output) => (output.length > 3 ? 0.9 : 0.2), fallback: () => 'later', fallbackOn: ['blocked'] });
const plain = defineAgent({ name: 'plain', purpose: 'Nothing set', model: 'openai:gpt-4o-2024-08-06', prompt: { text: 'Answer {{input}}' } });
const inline = defineEval({ agent: 'plain', name: 'plain-smoke', cases: [{ id: 'one', input: 'hi' }] });
export default defineConfig({ agents: [checked, plain], evals: [inline] });
`,
    );
    mkdirSync(join(dir, 'evals'));
    writeFileSync(join(dir, 'evals', 'checked.jsonl'), `${JSON.stringify({ id: 'ok', input: 'x' })}\n{not json\n`);
    const env = { TWELVE_DATABASE_URL: `sqlite:${join(dir, 'twelve.db')}` };
    const text = await runCli(['agents', 'ls'], { env, cwd: dir });
    expect(text.stderr).toBe('');
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^checked .*\n {2}review: always by roles finance; people ann, within 2h then approve {2}fallback: on blocked {2}confidence: function {2}evals: checked \(evals\/checked\.jsonl, suite invalid: evals\/checked\.jsonl:2: not JSON/m);
    expect(text.stdout).toMatch(/^plain .*\n {2}review: never {2}fallback: none {2}confidence: none {2}evals: plain-smoke \(config, 1 case\)$/m);
    const json = await runCli(['agents', 'ls', '--json'], { env, cwd: dir });
    const [checked, plain] = json.stdout.trim().split('\n').map((line) => JSON.parse(line));
    expect(checked).toMatchObject({
      name: 'checked',
      review: { policy: 'always', reviewers: ['finance'], people: ['ann'], timeoutMs: 7_200_000, onTimeout: 'approve' },
      fallback: { on: ['blocked'] },
      confidence: { function: true },
      evals: [{ name: 'checked', source: 'file', file: join('evals', 'checked.jsonl'), problem: expect.stringMatching(/^evals\/checked\.jsonl:2: not JSON/) }],
    });
    expect(plain).toMatchObject({ review: { policy: 'never', timeoutMs: null }, fallback: null, confidence: null, evals: [{ name: 'plain-smoke', source: 'config', cases: 1 }] });
  });
});

describe('conflicts exit 5, not 2', () => {
  it('refuses a decision on a finished thread and a resume of one with exit 5', async () => {
    const { env } = dbEnv({ TWELVE_MODEL_MODE: 'replay' });
    const run = await runCli(['run', 'refunds', '--input', '@examples/refunds/sample-request.txt'], { env });
    expect(run.code).toBe(0);
    const threadId = run.stdout.split(/\s+/)[0]!;

    const approve = await runCli(['approve', threadId, '--as', 'fiona@example.com'], { env });
    expect(approve.code).toBe(5);
    expect(approve.stderr).toBe(`twelve: thread ${threadId} is completed; it takes no more decisions\n`);
    const resume = await runCli(['resume', threadId], { env });
    expect(resume.code).toBe(5);
    expect(resume.stderr).toBe(`twelve: thread ${threadId} is completed; there is nothing to resume\n`);
    const help = await runCli(['--help'], { env });
    expect(help.stdout).toContain('5 conflict (already decided or answered, thread finished, held by another worker)');
  });
});

describe('bad input gets one line and exit 2', () => {
  const cases: Array<[string, string[], NodeJS.ProcessEnv, RegExp]> = [
    ['an unknown agent', ['run', 'nope', '--input', 'x'], {}, /^twelve: unknown agent "nope" \(known: email-classifier, refunds, triage\)$/],
    ['an unreadable input file', ['run', 'refunds', '--input', '@does-not-exist.txt'], {}, /^twelve: --input @does-not-exist.txt: cannot read does-not-exist.txt \(no such file\)$/],
    ['a missing --input', ['run', 'refunds'], {}, /needs --input/],
    ['an unknown option', ['run', 'refunds', '--input', 'x', '--fast'], {}, /^twelve: unknown option --fast \(see twelve --help\)$/],
    ['an unknown command', ['launch'], {}, /unknown command "launch"/],
    ['an agent file that does not exist', ['run', './agents/missing.ts', '--input', 'x'], {}, /cannot read \.\/agents\/missing\.ts: no such file/],
    ['an unknown thread', ['threads', 'show', 'th_nope'], {}, /no thread "th_nope"/],
    ['a bad --status', ['threads', 'ls', '--status', 'done'], {}, /--status: "done" is not a status/],
    ['an input that fails the agent schema', ['run', 'refunds', '--input', ''], {}, /input for agent refunds is invalid/],
  ];
  for (const [name, args, extra, expected] of cases) {
    it(`rejects ${name}`, async () => {
      const { env } = dbEnv(extra);
      if (args[0] === 'threads') await runCli(['run', 'refunds', '--input', 'x'], { env: { ...env, TWELVE_MODEL_MODE: 'replay' } });
      const result = await runCli(args, { env });
      expect(result.code).toBe(2);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
      expect(result.stderr.trim()).toMatch(expected);
    });
  }

  it('lists every invalid environment value in one error', async () => {
    const { env } = dbEnv({ TWELVE_LOG: 'yes', TWELVE_MODEL_MODE: 'fast', TWELVE_AGENT_REFUNDS_MODEL: 'openai:gpt-4o', TWELVE_AGENT_REFUNDS_MAX_STEPS: 'many' });
    const result = await runCli(['run', 'refunds', '--input', 'x'], { env });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/invalid configuration \(4 problems\)/);
    expect(result.stderr).toMatch(/TWELVE_LOG: .*got "yes"/);
    expect(result.stderr).toMatch(/TWELVE_MODEL_MODE: .*got "fast"/);
    expect(result.stderr).toMatch(/TWELVE_AGENT_REFUNDS_MODEL: "openai:gpt-4o" is a floating alias/);
    expect(result.stderr).toMatch(/TWELVE_AGENT_REFUNDS_MAX_STEPS: .*got "many"/);
  });

  it('explains a missing, a corrupt and an unusable database', async () => {
    const { dir, env } = dbEnv();
    const missing = await runCli(['threads', 'ls'], { env });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^twelve: no Twelve database at .*twelve\.db: nothing has run here yet/);
    writeFileSync(join(dir, 'twelve.db'), 'this is not a database, just some text '.repeat(200));
    const corrupt = await runCli(['threads', 'ls'], { env });
    expect(corrupt.code).toBe(2);
    expect(corrupt.stderr).toMatch(/is not a usable SQLite database/);
    const badUrl = await runCli(['threads', 'ls'], { env: { TWELVE_DATABASE_URL: 'mysql://localhost/twelve' } });
    expect(badUrl.code).toBe(2);
    expect(badUrl.stderr).toMatch(/TWELVE_DATABASE_URL: "mysql:\/\/localhost\/twelve" is not a database URL/);
    const withPassword = await runCli(['threads', 'ls'], { env: { TWELVE_DATABASE_URL: 'mysql://app:hunter2-secret@db.internal/twelve' } });
    expect(withPassword.code).toBe(2);
    expect(withPassword.stderr).toContain('mysql://app:***@db.internal/twelve');
    expect(withPassword.stderr).not.toContain('hunter2');
  });
});

describe('twelve threads show: retries, latency and unpriced calls', () => {
  it('shows every failed attempt of a model step with its latency, the step’s total, and how many calls had no known price', async () => {
    const server = await startServer();
    const local = 'openai-compatible:llama3.1-8b';
    const { agent } = supportAgent({ fallbackModels: [local], modelSettings: { maxRetries: 1, timeoutMs: 5_000 } }); // long: only the hanging request may time out, even on a loaded machine
    const { runtime, env } = makeRuntime({ agents: [agent], server });
    server.enqueue(
      // Step 1: the primary answers 500, then times out; the (unpriced) fallback answers.
      { status: 500, body: { error: { message: 'upstream exploded', type: 'server_error', code: null } } },
      { hang: true },
      { toolCalls: [{ name: 'lookup_order', arguments: { orderId: 'A-1001' } }], usage: { prompt_tokens: 50, completion_tokens: 5 } },
      // Step 2: every attempt of every model fails.
      { status: 500 },
      { status: 500 },
      { status: 503 },
      { status: 503 },
      // Step 3: the (priced) primary answers.
      { text: 'A-1001 was delivered.', usage: { prompt_tokens: 100, completion_tokens: 10 } },
    );
    const thread = await runtime.launch({ agent: 'support', input: 'Where is A-1001?' });
    expect((await runtime.runThread(thread.id)).outcome).toBe('completed');
    const cliEnv = { TWELVE_DATABASE_URL: env.TWELVE_DATABASE_URL };

    const show = await runCli(['threads', 'show', thread.id], { env: cliEnv });
    expect(show.stderr).toBe('');
    expect(show.code).toBe(0);
    const out = show.stdout;
    expect(out).toMatch(/^ {2}usage {4}2 model steps, \d+→\d+ tokens, price unknown \(1 of 2 calls had no known price; the other 1 call \$0\.00035\)$/m);
    expect(out).toMatch(new RegExp(`model +${local} +50→5 tok +price unknown +(\\d+ ms|[\\d.]+ s) +→ lookup_order +attempt 1, fallback #1 +step (\\d+ ms|[\\d.]+ s) with 2 failed attempts$`, 'm'));
    expect(out).toMatch(/^ +✗ attempt 1 openai:gpt-4o-2024-08-06: HTTP 500: upstream exploded +(\d+ ms|[\d.]+ s)$/m);
    expect(out).toMatch(/^ +✗ attempt 2 openai:gpt-4o-2024-08-06: timed out after 5000 ms +[\d.]+ s$/m);
    expect(out).toMatch(/model error +every model failed \(4 attempts\); last: openai-compatible:llama3\.1-8b: HTTP 503: .* +step \d+/);
    const lines = out.split('\n');
    const failed = lines.findIndex((l) => /model error/.test(l));
    expect(lines.slice(failed + 1, failed + 5).map((l) => /✗ attempt (\d) (\S+): HTTP (\d+)/.exec(l)?.slice(1))).toEqual([
      ['1', 'openai:gpt-4o-2024-08-06', '500'],
      ['2', 'openai:gpt-4o-2024-08-06', '500'],
      ['1', local, '503'],
      ['2', local, '503'],
    ]);
    // The step's total covers both attempts, the 5 s timeout included.
    const events = await runtime.loadEvents(thread.id);
    const first = events.find((e) => e.type === 'model_called')!;
    if (first.type !== 'model_called') throw new Error('unreachable');
    const total = first.data.totalLatencyMs!;
    const attempts = first.data.failures!.reduce((sum, f) => sum + f.latencyMs!, first.data.latencyMs);
    expect(total).toBeGreaterThanOrEqual(attempts);
    expect(first.data.failures![1]!.latencyMs).toBeGreaterThanOrEqual(5_000);
    expect(events.find((e) => e.type === 'model_failed')!.data).toMatchObject({ totalLatencyMs: expect.any(Number) });

    const ls = await runCli(['threads', 'ls'], { env: cliEnv });
    expect(ls.stdout).toMatch(new RegExp(`^${thread.id} +support +completed +2 +\\d+ +price unknown \\(1 call\\) +`, 'm'));
    const json = JSON.parse((await runCli(['threads', 'show', thread.id, '--json'], { env: cliEnv })).stdout);
    expect(json.thread).toMatchObject({ costUsd: null, unpricedCalls: 1 });
  });
});
