/**
 * `twelve mcp`: the agents as MCP tools, met through the SDK's own Client. Over stdio the
 * real command runs in a child process on the repository's examples (replayed recordings);
 * over Streamable HTTP the real API server answers at /mcp with its keys.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ProgressNotificationSchema, type Progress } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it, onTestFinished } from 'vitest';
import { keys, startApi, type KeyName } from './support/api.js';
import { repoRoot, runCli } from './support/cli.js';
import { tempDir } from './support/temp-dir.js';

const bin = fileURLToPath(new URL('../bin/twelve.js', import.meta.url));
const sample = (name: string) => readFileSync(join(repoRoot, 'examples/refunds', name), 'utf8').trimEnd();

/** The test process's environment without the developer's Twelve settings, plus `extra`. */
function childEnv(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) if (value !== undefined && !/^(TWELVE_|OPENAI_|ANTHROPIC_|REFUNDS_)/.test(key)) env[key] = value;
  return { ...env, NO_COLOR: '1', ...extra };
}

function projectEnv(): Record<string, string> {
  const dir = tempDir();
  return {
    TWELVE_DATABASE_URL: `sqlite:${join(dir, 'twelve.db')}`,
    REFUNDS_LEDGER_PATH: join(dir, 'ledger.db'),
    TWELVE_MODEL_MODE: 'replay',
    TWELVE_HUMANS: 'fiona@example.com=finance',
  };
}

/** `twelve mcp` on stdio, as an MCP client starts it; closed when the test ends. */
async function connectStdio(env: Record<string, string>, flags: string[] = []): Promise<{ client: Client; stderr: () => string }> {
  const transport = new StdioClientTransport({ command: process.execPath, args: [bin, 'mcp', ...flags], cwd: repoRoot, env: childEnv(env), stderr: 'pipe' });
  let stderr = '';
  transport.stderr?.on('data', (chunk) => (stderr += chunk));
  const client = new Client({ name: 'twelve-test', version: '1.0.0' });
  await client.connect(transport);
  onTestFinished(() => client.close());
  return { client, stderr: () => stderr };
}

async function connectHttp(url: string, key: KeyName | string | null): Promise<Client> {
  const bearer = key === null ? undefined : key in keys ? keys[key as KeyName].key : key;
  const transport = new StreamableHTTPClientTransport(new URL(`${url}/mcp`), { requestInit: { headers: bearer ? { authorization: `Bearer ${bearer}` } : {} } });
  const client = new Client({ name: 'twelve-test', version: '1.0.0' });
  await client.connect(transport);
  onTestFinished(() => client.close());
  return client;
}

/**
 * Every progress notification the client receives. The SDK's own onprogress callback misses the
 * ones that arrive in the same chunk as the response (it handles notifications a microtask later
 * and forgets the request's token with its response), so the tests read the notifications
 * themselves; pass `progress.request` as onprogress, which asks the server for progress.
 */
function collectProgress(client: Client): Progress[] & { request: () => void } {
  const seen = Object.assign([] as Progress[], { request: () => undefined });
  client.setNotificationHandler(ProgressNotificationSchema, (notification) => {
    const { progressToken: _token, ...progress } = notification.params;
    seen.push(progress as Progress);
  });
  return seen;
}

const structured = (result: Awaited<ReturnType<Client['callTool']>>) => result.structuredContent as Record<string, any>;
const text = (result: Awaited<ReturnType<Client['callTool']>>) => (result.content as Array<{ type: string; text: string }>).map((c) => c.text).join('\n');

describe('twelve mcp over stdio', () => {
  it('lists a tool per agent, runs the refunds agent with progress notifications, and returns its output', async () => {
    const { client, stderr } = await connectStdio(projectEnv());
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(['email-classifier', 'email-classifier_launch', 'refunds', 'refunds_launch', 'thread_status', 'triage', 'triage_launch']);
    const refunds = tools.find((t) => t.name === 'refunds')!;
    expect(refunds.description).toMatch(/^Decide and execute one customer refund request/);
    expect(refunds.inputSchema).toMatchObject({ type: 'object', properties: { input: { type: 'string' } }, required: ['input'] });
    expect(refunds.outputSchema).toMatchObject({ properties: { output: { properties: { decision: { enum: ['refunded', 'declined'] } } } } });

    const progress = collectProgress(client);
    const result = await client.callTool({ name: 'refunds', arguments: { input: sample('sample-request.txt') } }, undefined, { onprogress: progress.request });
    expect(result.isError).toBeFalsy();
    expect(structured(result)).toMatchObject({ agent: 'refunds', status: 'completed', output: { decision: 'refunded', orderId: 'A-1001' } });
    expect(structured(result).threadId).toMatch(/^th_/);
    expect(JSON.parse(text(result))).toMatchObject({ decision: 'refunded', orderId: 'A-1001' });
    const messages = progress.map((p) => p.message);
    expect(messages[0]).toMatch(/^thread th_\w+ started \(agent refunds\)$/);
    expect(messages).toContain('model openai:gpt-4o-2024-08-06 answered: calls lookup_order');
    expect(messages).toContain('running tool issue_refund');
    expect(messages.at(-1)).toBe('completed');
    expect(progress.map((p) => p.progress)).toEqual([...progress.map((p) => p.progress)].sort((a, b) => a - b));
    expect(stderr()).toMatch(/twelve mcp: email-classifier, refunds, triage as MCP tools on stdio/);
  });

  it('answers invalid arguments with a tool error, and a thread that waits for approval with its id and status to poll', async () => {
    const env = projectEnv();
    const { client } = await connectStdio(env);
    const invalid = await client.callTool({ name: 'refunds', arguments: { text: 'refund me' } });
    expect(invalid.isError).toBe(true);
    expect(text(invalid)).toMatch(/^invalid arguments for refunds: .*expected string/);
    const unknown = await client.callTool({ name: 'thread_status', arguments: { threadId: 'th_nope' } });
    expect(unknown.isError).toBe(true);
    expect(text(unknown)).toBe('no thread "th_nope"');

    const waiting = await client.callTool({ name: 'refunds', arguments: { input: sample('sample-large.txt') } });
    expect(waiting.isError).toBeFalsy();
    const { threadId } = structured(waiting);
    expect(structured(waiting)).toMatchObject({ status: 'awaiting_approval', pending: [{ kind: 'approval', tool: 'issue_refund', approvers: ['finance', 'support-lead'] }] });
    expect(text(waiting)).toContain(`waits for a person: approval for issue_refund`);
    expect(text(waiting)).toContain(`Poll it with thread_status {"threadId": "${threadId}"}`);

    const approved = await runCli(['approve', threadId, '--as', 'fiona@example.com'], { env });
    expect(approved.code).toBe(0);
    // The worker in the MCP process picks the approved thread up; the poll waits for it to finish.
    const progress = collectProgress(client);
    const done = await client.callTool({ name: 'thread_status', arguments: { threadId, waitSeconds: 30 } }, undefined, { onprogress: progress.request });
    expect(structured(done)).toMatchObject({ threadId, status: 'completed', output: { decision: 'refunded', orderId: 'A-1005' } });
    expect(progress.map((p) => p.message)).toContain('issue_refund approved by fiona@example.com');
  });
});

describe('twelve mcp --no-worker', () => {
  it('leaves the thread to workers elsewhere and answers with its id and status once the wait bound passes', async () => {
    const env = projectEnv();
    const { client, stderr } = await connectStdio(env, ['--no-worker', '--max-wait', '0.5']);
    expect(stderr()).toContain('threads run by twelve worker elsewhere');
    const result = await client.callTool({ name: 'refunds', arguments: { input: sample('sample-request.txt') } });
    expect(result.isError).toBeFalsy();
    const { threadId } = structured(result);
    expect(structured(result)).toMatchObject({ agent: 'refunds', status: 'runnable' });
    expect(text(result)).toBe(`thread ${threadId} (refunds) is still running. Poll it with thread_status {"threadId": "${threadId}"}.`);
    // Another process runs it (here: twelve resume, the foreground form of a worker); the poll sees the outcome.
    const resumed = await runCli(['resume', threadId, '--as', 'ops@example.com'], { env });
    expect(resumed.code).toBe(0);
    const done = await client.callTool({ name: 'thread_status', arguments: { threadId } });
    expect(structured(done)).toMatchObject({ status: 'completed', output: { decision: 'refunded' } });
  });
});

describe('twelve mcp --http', () => {
  it('refuses --port without --http, and --concurrency with --no-worker', async () => {
    const [port, worker] = await Promise.all([runCli(['mcp', '--port', '4131']), runCli(['mcp', '--no-worker', '--concurrency', '2'])]);
    expect([port.code, worker.code]).toEqual([2, 2]);
    expect(port.stderr.trim()).toBe('twelve: --host and --port go with --http (over stdio nothing listens)');
    expect(worker.stderr.trim()).toBe('twelve: --concurrency is for the worker in this process; --no-worker runs none');
  });

  it('serves the tools at /mcp to a key from TWELVE_API_KEYS, refuses a request without one, and runs threads in its worker', async () => {
    const key = 'tw_test_mcp_operator_8d3f1a6c2e9b4075';
    const child = spawn(process.execPath, [bin, 'mcp', '--http', '--port', '0'], {
      cwd: repoRoot,
      env: childEnv({ ...projectEnv(), TWELVE_API_KEYS: `claude=operator=${key}` }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    onTestFinished(async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    });
    let stderr = '';
    const url = await new Promise<string>((resolve, reject) => {
      child.stderr.on('data', (chunk) => {
        stderr += chunk;
        const found = /twelve mcp: (http:\/\/\S+)\/mcp/.exec(stderr);
        if (found) resolve(found[1]!);
      });
      void exited.then(() => reject(new Error(`twelve mcp --http exited:\n${stderr}`)));
    });
    await expect(connectHttp(url, null)).rejects.toThrow(/401|missing API key/);
    const client = await connectHttp(url, key);
    const result = await client.callTool({ name: 'email-classifier', arguments: { input: readFileSync(join(repoRoot, 'examples/email-classifier/sample-email.txt'), 'utf8').trimEnd() } });
    expect(structured(result)).toMatchObject({ agent: 'email-classifier', status: 'completed', output: { label: 'billing' } });
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(child.stdout.read()).toBeNull();
  });
});

describe('the MCP endpoint of the HTTP API', () => {
  it('runs an agent with a structured input for an operator key, with its input schema as the tool\'s', async () => {
    const api = await startApi({ worker: true });
    const client = await connectHttp(api.url, 'ops');
    const { tools } = await client.listTools();
    const tool = tools.find((t) => t.name === 'structured')!;
    expect(tool.inputSchema).toMatchObject({ type: 'object', properties: { orderId: { type: 'string' }, amount: { type: 'integer' } }, required: ['orderId', 'amount'] });
    const progress = collectProgress(client);
    const result = await client.callTool({ name: 'structured', arguments: { orderId: 'A-1001', amount: 3 } }, undefined, { onprogress: progress.request });
    expect(structured(result)).toMatchObject({ agent: 'structured', status: 'completed' });
    expect(text(result)).toMatch(/^echo: /);
    expect(progress.at(-1)?.message).toBe('completed');
    const thread = await api.call('GET', `/v1/threads/${structured(result).threadId}`);
    expect(thread.body.input).toEqual({ orderId: 'A-1001', amount: 3 });

    const invalid = await client.callTool({ name: 'structured', arguments: { orderId: 'nope', amount: 3 } });
    expect(invalid.isError).toBe(true);
    expect(text(invalid)).toMatch(/^invalid arguments for structured: orderId: /);
  });

  it('launches without waiting, polls until the thread waits for approval, and leaves launching to operators', async () => {
    const api = await startApi({ worker: true });
    const ops = await connectHttp(api.url, 'ops');
    const launched = await ops.callTool({ name: 'payer_launch', arguments: { input: 'pay 250' } });
    expect(structured(launched)).toMatchObject({ agent: 'payer', status: 'runnable' });
    const { threadId } = structured(launched);
    const polled = await ops.callTool({ name: 'thread_status', arguments: { threadId, waitSeconds: 20 } });
    expect(structured(polled)).toMatchObject({ threadId, status: 'awaiting_approval', pending: [{ kind: 'approval', tool: 'pay' }] });
    const started = await api.call('GET', `/v1/threads/${threadId}/events`);
    expect(started.body.events[0].data.metadata).toEqual({ launchedBy: 'ops-bot', launchedVia: 'mcp:http' });

    const reader = await connectHttp(api.url, 'reader');
    expect((await reader.listTools()).tools.length).toBeGreaterThan(0);
    const refused = await reader.callTool({ name: 'echo', arguments: { input: 'hi' } });
    expect(refused.isError).toBe(true);
    expect(text(refused)).toBe('dashboard lacks the operator role needed to launch threads');
    expect(structured(await reader.callTool({ name: 'thread_status', arguments: { threadId } }))).toMatchObject({ status: 'awaiting_approval' });
  });

  it('is reached over stdio through twelve mcp with TWELVE_URL, as the key\'s owner', async () => {
    const api = await startApi({ worker: true });
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [bin, 'mcp'],
      cwd: repoRoot,
      env: childEnv({ TWELVE_URL: api.url, TWELVE_API_KEY: keys.ops.key }),
      stderr: 'pipe',
    });
    const client = new Client({ name: 'twelve-test', version: '1.0.0' });
    await client.connect(transport);
    onTestFinished(() => client.close());
    expect((await client.listTools()).tools.map((t) => t.name)).toContain('echo_launch');
    const progress = collectProgress(client);
    const result = await client.callTool({ name: 'echo', arguments: { input: 'over the bridge' } }, undefined, { onprogress: progress.request });
    expect(structured(result)).toMatchObject({ agent: 'echo', status: 'completed' });
    expect(text(result)).toContain('over the bridge');
    expect(progress.at(-1)?.message).toBe('completed');
    const started = await api.call('GET', `/v1/threads/${structured(result).threadId}/events`);
    expect(started.body.events[0].data.metadata).toEqual({ launchedBy: 'ops-bot', launchedVia: 'mcp:http' });
  });

  it('refuses a request without a key or with an unknown key', async () => {
    const api = await startApi();
    await expect(connectHttp(api.url, null)).rejects.toThrow(/401|missing API key/);
    await expect(connectHttp(api.url, 'tw_test_not_a_key_5c1e9a7b3d')).rejects.toThrow(/401|unknown API key/);
    const body = { jsonrpc: '2.0', id: 1, method: 'tools/list' };
    const bare = await api.call('POST', '/mcp', { key: null, body, headers: { accept: 'application/json, text/event-stream' } });
    expect(bare.status).toBe(401);
    expect(bare.body.error.message).toBe('missing API key: send Authorization: Bearer <key>');
    const get = await api.call('GET', '/mcp', { key: 'reader' });
    expect(get.status).toBe(405);
  });
});
