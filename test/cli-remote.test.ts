/**
 * The `twelve` CLI in remote mode (TWELVE_URL + TWELVE_API_KEY): the real command in a child
 * process against a real `twelve dev` child (the refunds example, replayed), and against an
 * in-test server with scripted agents, for exit codes, --wait, Ctrl-C, resume and errors.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { describe, expect, it, onTestFinished } from 'vitest';
import { keys, startApi, type KeyName } from './support/api.js';
import { eventually, repoRoot, runCli, startCli } from './support/cli.js';
import { tempDir } from './support/temp-dir.js';

const bin = fileURLToPath(new URL('../bin/twelve.js', import.meta.url));

/** `twelve dev` in a child process on an ephemeral port; resolves with its URL once it listens. */
async function startDevServer(env: NodeJS.ProcessEnv): Promise<{ url: string; child: ChildProcess; stderr: () => string }> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(TWELVE_|OPENAI_|ANTHROPIC_|REFUNDS_)/.test(name)));
  const child = spawn(process.execPath, [bin, 'dev'], { cwd: repoRoot, env: { ...base, NO_COLOR: '1', PORT: '0', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  child.stdout!.resume();
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  onTestFinished(async () => {
    if (child.exitCode === null) child.kill('SIGTERM');
    await exited;
  });
  const url = await eventually(() => /twelve dev: (http:\/\/127\.0\.0\.1:\d+)/.exec(stderr)?.[1] ?? (child.exitCode !== null ? Promise.reject(new Error(`twelve dev exited: ${stderr}`)) : undefined), 45_000);
  return { url, child, stderr: () => stderr };
}

function remoteEnv(url: string, key: KeyName | string): NodeJS.ProcessEnv {
  return { TWELVE_URL: url, TWELVE_API_KEY: key in keys ? keys[key as KeyName].key : key };
}

const apiKeysSpec = Object.values(keys).map((k) => `${k.name}=${k.roles.join(',')}=${k.key}`).join(';');

describe('twelve <command> with TWELVE_URL, against `twelve dev`', () => {
  it('runs the refunds example remotely, waits for approval (exit 4), and approves as the key\'s owner, not --as', async () => {
    const dir = tempDir();
    const dev = await startDevServer({
      TWELVE_DATABASE_URL: `sqlite:${join(dir, 'twelve.db')}`,
      REFUNDS_LEDGER_PATH: join(dir, 'ledger.db'),
      TWELVE_MODEL_MODE: 'replay',
      TWELVE_HUMANS: 'fiona@example.com=finance',
      TWELVE_API_KEYS: apiKeysSpec,
    });
    const as = (key: KeyName) => remoteEnv(dev.url, key);
    // With TWELVE_API_KEYS set, dev makes no all-roles console key, says so, and says what is public.
    await eventually(() => /no dev key is made/.test(dev.stderr()));
    expect(dev.stderr()).not.toMatch(/API key for this run/);
    expect(dev.stderr()).toMatch(/public \(no key\): GET \/healthz, GET \/readyz, GET \/openapi\.json, the console files at \/; \/metrics, \/mcp and the rest of \/v1 need a key/);

    const small = await runCli(['run', 'refunds', '--input', '@examples/refunds/sample-request.txt'], { env: as('ops') });
    expect(small.stderr).toBe('');
    expect(small.code).toBe(0);
    // The same lines as a local run.
    expect(small.stdout).toMatch(/^th_\w+ {2}agent refunds {2}release rel_[0-9a-f]{16}$/m);
    expect(small.stdout).toMatch(/model +openai:gpt-4o-2024-08-06 +412→18 tok +\$0\.00121 .*→ lookup_order/);
    expect(small.stdout).toMatch(/tool call +issue_refund \{"orderId":"A-1001","amountCents":4999/);
    expect(small.stdout).toMatch(/tool result +issue_refund \{"refundId":"rf_/);
    expect(small.stdout).toMatch(/completed +\{"decision":"refunded"/);
    const lines = small.stdout.trim().split('\n');
    expect(lines.slice(1).map((line) => Number(line.trim().split(/\s+/)[0]))).toEqual(lines.slice(1).map((_, i) => i + 1));

    const json = await runCli(['run', 'refunds', '--input', '-', '--json'], { env: as('ops'), input: 'Hello, I want to return the desk lamp from order A-1002. I just never got around to opening it. Refund please!\n' });
    expect(json.code).toBe(0);
    const events = json.stdout.trim().split('\n').map((line) => JSON.parse(line));
    expect(events.map((e) => e.seq)).toEqual(events.map((_: unknown, i: number) => i + 1));
    expect(events.at(-1)).toMatchObject({ type: 'thread_completed', data: { output: { decision: 'declined', orderId: 'A-1002' } } });

    const large = await runCli(['run', 'refunds', '--input', '@examples/refunds/sample-large.txt'], { env: as('ops') });
    expect(large.code).toBe(4);
    expect(large.stdout).toMatch(/approval\? +issue_refund \{"orderId":"A-1005".*above the 10000-cent approval threshold \(approvers: roles finance, support-lead\)/);
    expect(large.stdout).not.toMatch(/tool result +issue_refund/);
    const threadId = large.stdout.split(/\s+/)[0]!;
    expect(large.stderr).toContain(`${threadId} waits for approval`);
    expect(large.stderr).toContain(`twelve approve ${threadId} [--comment ...]`);

    const inbox = await runCli(['inbox'], { env: as('reader') });
    expect(inbox.code).toBe(0);
    expect(inbox.stdout).toMatch(new RegExp(`^${threadId} +refunds +awaiting_approval +approval for issue_refund`, 'm'));

    const reader = await runCli(['approve', threadId], { env: as('reader') });
    expect(reader.code).toBe(2);
    expect(reader.stderr).toBe('twelve: dashboard lacks the approver role for this request\n');
    const notFinance = await runCli(['approve', threadId], { env: as('admin') });
    expect(notFinance.code).toBe(2);
    expect(notFinance.stderr).toMatch(/admin may not decide on issue_refund: allowed are anyone with the role finance or support-lead; admin has the roles/);

    const approved = await runCli(['approve', threadId, '--as', 'bob@example.com', '--comment', 'checked the photos', '--run'], { env: as('fiona') });
    expect(approved.stderr).toBe("twelve: note: --as is ignored with TWELVE_URL: the server records the API key's owner, fiona@example.com\n");
    expect(approved.code).toBe(0);
    expect(approved.stdout).toMatch(/approved +issue_refund approved by fiona@example.com: "checked the photos"/);
    expect(approved.stdout).toMatch(/tool result +issue_refund \{"refundId":"rf_/);
    expect(approved.stdout).toMatch(/completed +\{"decision":"refunded","orderId":"A-1005"/);
    expect(approved.stdout).not.toMatch(/bob/);

    const show = await runCli(['threads', 'show', threadId], { env: as('reader') });
    expect(show.code).toBe(0);
    expect(show.stdout).toMatch(new RegExp(`^${threadId} +completed`, 'm'));
    expect(show.stdout).toMatch(/^ +release rel_[0-9a-f]{16}$/m);
    expect(show.stdout).toMatch(/\+\d+\.\d{3}s +9 +approved +issue_refund approved by fiona@example.com/);

    const ls = await runCli(['threads', 'ls', '--status', 'completed'], { env: as('reader') });
    expect(ls.stdout.trim().split('\n')).toHaveLength(4); // header + 3 threads
    const agents = await runCli(['agents', 'ls'], { env: as('reader') });
    expect(agents.stdout).toMatch(/^refunds +openai:gpt-4o-2024-08-06 +anthropic:claude-sonnet-4-5-20250929 +lookup_order,issue_refund +rel_[0-9a-f]{16} +Decide and execute/m);
    expect(agents.stdout).toMatch(/^email-classifier /m);
    // The server's view of each agent's quality settings (suites live in the project, not on the server).
    expect(agents.stdout).toMatch(/^email-classifier .*\n {2}review: never {2}fallback: on models_failed,blocked {2}confidence: field confidence$/m);
    // The examples' templates keep the start of every request stable: no prompt-cache warning.
    expect(agents.stdout).not.toMatch(/prompt cache/);

    const ledger = new Database(join(dir, 'ledger.db'), { readonly: true });
    try {
      expect(ledger.prepare('SELECT order_id FROM refunds ORDER BY order_id').pluck().all()).toEqual(['A-1001', 'A-1005']);
    } finally {
      ledger.close();
    }
    expect(dev.stderr()).not.toMatch(/error/i);
  });
});

describe('twelve <command> with TWELVE_URL, against an in-test server', () => {
  async function server() {
    const api = await startApi({ worker: true });
    return Object.assign(api, { as: (key: KeyName) => remoteEnv(api.url, key) });
  }

  it('keeps streaming with --wait while a person decides elsewhere, then exits 0', async () => {
    const api = await server();
    const live = startCli(['run', 'payer', '--input', 'pay 500', '--wait'], { env: api.as('ops') });
    const first = await live.waitForLine(/^th_\w+ {2}agent payer/);
    const threadId = first.split(/\s+/)[0]!;
    await live.waitForLine(/approval\? +pay \{"amount":500\}/);
    await eventually(async () => (await api.runtime.getThreadOrThrow(threadId)).status === 'awaiting_approval');
    await new Promise((resolve) => setTimeout(resolve, 300)); // it keeps waiting
    expect(live.child.exitCode).toBeNull();
    const approve = await runCli(['approve', threadId, '--comment', 'ok'], { env: api.as('fiona') });
    expect(approve.code).toBe(0);
    const { code } = await live.exited;
    expect(code).toBe(0);
    const output = live.output();
    expect(output).toMatch(/approved +pay approved by fiona@example.com: "ok"/);
    expect(output).toMatch(/tool result +pay \{"paid":500\}/);
    expect(output).toMatch(/completed +"paid"/);
    expect(output).toContain(`twelve: ${threadId} waits for approval`);
    expect(output).toContain('waiting here until then');
    // Each event printed once.
    const seqs = output.split('\n').filter((line) => /^ +\d+ {2}/.test(line)).map((line) => Number(line.trim().split(/\s+/)[0]));
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
  });

  it('exits 3 when the thread is cancelled, 130 on Ctrl-C (the thread goes on), and resume follows it again', async () => {
    const api = await server();
    const live = startCli(['run', 'gated', '--input', 'go'], { env: api.as('ops') });
    const threadId = (await live.waitForLine(/^th_\w+ {2}agent gated/)).split(/\s+/)[0]!;
    await live.waitForLine(/tool run +slow_pay/);
    live.child.kill('SIGINT');
    expect((await live.exited).code).toBe(130);
    expect(live.output()).toContain(`stopped following ${threadId}; it goes on on the server (follow it again with: twelve resume ${threadId})`);

    const follower = startCli(['resume', threadId], { env: api.as('ops') });
    await follower.waitForLine(new RegExp(`^${threadId} {2}agent gated {2}resuming after seq 4$`));
    const cancel = await runCli(['cancel', threadId, '--reason', 'not needed'], { env: api.as('ops') });
    expect(cancel.code).toBe(0);
    expect(cancel.stdout).toContain(`cancel requested: a worker is running ${threadId}; it applies after the current step`);
    api.gate.resolve();
    expect((await follower.exited).code).toBe(3);
    expect(follower.output()).toMatch(/cancelled +by ops-bot: not needed/);
    expect(follower.output()).not.toMatch(/^ +[1-4] {2}/m); // only what came after seq 4

    const again = await runCli(['resume', threadId], { env: api.as('ops') });
    expect(again.code).toBe(5);
    expect(again.stderr).toBe(`twelve: thread ${threadId} is cancelled; there is nothing to resume\n`);
  });

  it('pauses, resumes (a resume event, then follow), answers, and raises budgets as the key\'s owner', async () => {
    const api = await server();
    const run = await runCli(['run', 'payer', '--input', 'pay 250'], { env: api.as('ops') });
    expect(run.code).toBe(4);
    const threadId = run.stdout.split(/\s+/)[0]!;
    const paused = await runCli(['pause', threadId, '--reason', 'audit', '--as', 'ops-bot'], { env: api.as('ops') });
    expect(paused.code).toBe(0);
    expect(paused.stderr).toBe(''); // --as names the key's owner: no note
    expect(paused.stdout).toMatch(/paused +by ops-bot: audit/);
    const inbox = await runCli(['inbox', '--json'], { env: api.as('reader') });
    expect(inbox.stdout).toBe('');
    const resumed = await runCli(['resume', threadId, '--comment', 'audit done'], { env: api.as('ops') });
    expect(resumed.code).toBe(4); // back to waiting for the approval
    expect(resumed.stdout).toMatch(/resumed +by ops-bot: "audit done"/);
    expect(resumed.stderr).toContain(`${threadId} waits for approval`);
    const budget = await runCli(['budget', threadId, '--max-steps', '9', '--comment', 'room'], { env: api.as('fiona') });
    expect(budget.code).toBe(0);
    expect(budget.stdout).toMatch(/budget +raised by fiona@example.com: max steps 9 \(was 6\); "room"/);
    const noLimit = await runCli(['budget', threadId], { env: api.as('fiona') });
    expect(noLimit.code).toBe(2);
    expect(noLimit.stderr).toMatch(/at least one of --max-cost-usd, --max-tokens, --max-steps/);
    const rejected = await runCli(['reject', threadId, '--comment', 'no', '--run'], { env: api.as('fiona') });
    expect(rejected.code).toBe(0);
    expect(rejected.stdout).toMatch(/rejected +pay rejected by fiona@example.com: "no"/);
    const twice = await runCli(['approve', threadId], { env: api.as('fiona') });
    expect(twice.code).toBe(5);
    expect(twice.stderr).toMatch(/is completed; it takes no more decisions/);

    const asked = await runCli(['run', 'asker', '--input', 'colour?'], { env: api.as('ops') });
    expect(asked.code).toBe(4);
    const askId = asked.stdout.split(/\s+/)[0]!;
    expect(asked.stderr).toContain(`twelve answer ${askId} "<answer>"`);
    const answered = await runCli(['answer', askId, 'blue', '--wait'], { env: api.as('fiona') });
    expect(answered.code).toBe(0);
    expect(answered.stdout).toMatch(/answer +"blue" +by fiona@example.com/);
    expect(answered.stdout).toMatch(/completed +"noted"/);
  });

  it('lists threads and agents, shows JSON, coerces JSON input for structured agents, and refuses what it cannot do', async () => {
    const api = await server();
    const structured = await runCli(['run', 'structured', '--input', '{"orderId":"A-1001","amount":3}'], { env: api.as('ops') });
    expect(structured.code).toBe(0);
    expect((await api.runtime.listThreads({ agent: 'structured' }))[0]!.input).toEqual({ orderId: 'A-1001', amount: 3 });
    for (let i = 0; i < 3; i++) expect((await runCli(['run', 'echo', '--input', `hello ${i}`], { env: api.as('ops') })).code).toBe(0);
    const ls = await runCli(['threads', 'ls', '--agent', 'echo', '--limit', '2'], { env: api.as('reader') });
    expect(ls.code).toBe(0);
    expect(ls.stdout.trim().split('\n')).toHaveLength(3);
    expect(ls.stdout).toMatch(/^THREAD +AGENT +STATUS +STEPS +TOKENS +COST +UPDATED$/m);
    expect(ls.stdout).toMatch(/^th_\w+ +echo +completed +1 +15 +price unknown \(1 call\) +/m); // scripted models have no price
    const echoId = /^(th_\w+) +echo/m.exec(ls.stdout)![1]!;
    const echoShow = await runCli(['threads', 'show', echoId], { env: api.as('reader') });
    expect(echoShow.stdout).toMatch(/^ {2}usage {4}1 model steps, \d+→\d+ tokens, price unknown \(1 of 1 call had no known price\)$/m);
    const all = await runCli(['threads', 'ls', '--json', '--limit', '250'], { env: api.as('reader') });
    expect(all.stdout.trim().split('\n').map((line) => JSON.parse(line).agent).sort()).toEqual(['echo', 'echo', 'echo', 'structured']);
    const shown = await runCli(['threads', 'show', JSON.parse(all.stdout.split('\n')[0]!).id, '--json'], { env: api.as('reader') });
    expect(JSON.parse(shown.stdout)).toMatchObject({ thread: { status: 'completed' }, events: [{ seq: 1 }, { seq: 2 }, { seq: 3 }] });
    const agents = await runCli(['agents', 'ls', '--json'], { env: api.as('reader') });
    expect(agents.stdout.trim().split('\n').map((line) => JSON.parse(line).name)).toEqual(['payer', 'asker', 'echo', 'structured', 'gated']);
    // Each agent's prompt caching as the server runs it (GET /v1/agents).
    expect(agents.stdout.trim().split('\n').map((line) => JSON.parse(line).promptCache.cache)).toEqual(['auto', 'auto', 'auto', 'auto', 'auto']);

    const cases: Array<[string[], NodeJS.ProcessEnv, RegExp]> = [
      [['run', 'nobody', '--input', 'x'], api.as('ops'), /^twelve: unknown agent "nobody"/],
      [['run', 'test/fixtures/strict-answer-agent.ts', '--input', 'x'], api.as('ops'), /with TWELVE_URL, run takes the name of an agent the server runs/],
      [['run', 'echo', '--input', 'x'], api.as('reader'), /dashboard lacks the operator role/],
      [['threads', 'show', 'th_missing'], api.as('reader'), /no thread "th_missing"/],
      [['threads', 'ls', '--status', 'running'], api.as('reader'), /--status: "running" is not a status/],
      [['inbox'], remoteEnv(api.url, 'tw_not_a_key_0000000000'), /unknown API key \(TWELVE_API_KEY is not a key of http:\/\/127\.0\.0\.1:\d+\)/],
      [['inbox'], { TWELVE_URL: api.url }, /TWELVE_URL is set .* set TWELVE_API_KEY/],
      [['inbox'], { TWELVE_URL: 'not a url', TWELVE_API_KEY: 'k' }, /^twelve: TWELVE_URL: url "not a url" is not a URL/],
      [['inbox'], remoteEnv('http://127.0.0.1:9', 'ops'), /cannot reach http:\/\/127\.0\.0\.1:9 .*\(TWELVE_URL\)/],
    ];
    for (const [args, env, message] of cases) {
      const result = await runCli(args, { env });
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr, args.join(' ')).toMatch(message);
      expect(result.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
    }
    // Commands that run things stay local even with TWELVE_URL set.
    const dir = tempDir();
    const migrate = await runCli(['migrate'], { env: { ...api.as('ops'), TWELVE_DATABASE_URL: `sqlite:${join(dir, 'local.db')}` } });
    expect(migrate.code).toBe(0);
    expect(migrate.stdout).toContain('local.db: migrated');
  });
});
