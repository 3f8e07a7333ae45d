/**
 * The CLI following threads others run: `twelve resume` (and `run`) when another live process
 * holds the thread follows it instead of refusing, and `approve --wait` against a server
 * prints each event once even when the workers move on while it reads. Real child processes,
 * a real server on 127.0.0.1; the races are made to happen, not hoped for.
 */
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { createRuntime } from '../src/index.js';
import { keys, startApi } from './support/api.js';
import { eventually, runCli, startCli } from './support/cli.js';
import { startServer, testApiKey } from './support/runtime.js';
import { tempDir } from './support/temp-dir.js';
import slowAgent from './fixtures/slow-tool-agent.js';

const fixture = 'test/fixtures/slow-tool-agent.ts';

/** The seqs of the event lines a CLI printed, in order. */
function printedSeqs(stdout: string): number[] {
  return stdout.split('\n').filter((line) => /^ +\d+ {2}/.test(line)).map((line) => Number(line.trim().split(/\s+/)[0]));
}

/** An HTTP proxy to `target` that holds each request `hold` says to hold until it says to let go. */
async function holdingProxy(target: string, hold: (req: IncomingMessage) => Promise<void>) {
  const upstream = new URL(target);
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    void hold(req).then(() => {
      const forward = request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      forward.on('error', () => res.destroy());
      req.pipe(forward);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())).then(() => undefined));
  onTestFinished(() => void server.closeAllConnections());
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('following a thread another process runs', () => {
  it('twelve resume follows a thread another live process holds, printing its events once, and exits with its outcome', async () => {
    const server = await startServer();
    server.setFallback((req) => ((req.body?.messages ?? []) as Array<{ role: string }>).some((m) => m.role === 'tool') ? { text: 'done' } : { toolCalls: [{ name: 'slow', arguments: { label: 'x' } }] });
    const dir = tempDir();
    const env = { TWELVE_DATABASE_URL: `sqlite:${join(dir, 'twelve.db')}`, OPENAI_API_KEY: testApiKey, OPENAI_BASE_URL: server.baseURL };
    const runtime = createRuntime({ agents: [slowAgent], env: { ...env, TWELVE_LOG: 'off' } });
    onTestFinished(() => runtime.close());
    const thread = await runtime.launch({ agent: 'slow-tool', input: 'go' });
    // This process holds it (a `twelve dev` or worker would, having claimed it first).
    const claimed = (await runtime.store.claim({ owner: runtime.owner, leaseMs: 60_000, threadId: thread.id }))!;
    expect(claimed.leaseOwner).toBe(runtime.owner);

    const cli = startCli(['resume', thread.id, '--config', fixture, '--as', 'ops@example.com'], { env });
    await eventually(() => cli.output().includes(`twelve: ${thread.id} is being run by another process (${runtime.owner}); following it`), 45_000);
    expect(await runtime.drive(claimed)).toBe('completed');

    const { code } = await cli.exited;
    expect(code, cli.output()).toBe(0);
    const stdout = cli.output();
    expect(stdout).toMatch(/tool result +slow "done x \(attempt 1\)"/);
    expect(stdout).toMatch(/completed +"done"/);
    expect(stdout).not.toMatch(/being run by another worker|try again/);
    const seqs = printedSeqs(stdout);
    expect(seqs).toEqual(seqs.map((_, i) => i + 2)); // every event after seq 1, each once
    expect(seqs.at(-1)).toBe((await runtime.getThread(thread.id))!.seq);
  });
});

describe('twelve approve --wait with TWELVE_URL', () => {
  it('prints each event once when the workers append while it reads the events after its decision', async () => {
    const api = await startApi({ worker: true });
    const { thread } = await api.runtime.launchOnce({ agent: 'payer', input: 'pay 500' });
    await eventually(async () => (await api.runtime.getThread(thread.id))?.status === 'awaiting_approval');
    // Holds the CLI's reads of the log until the worker has taken the thread to its end after the
    // decision: the window in which the events used to be printed twice, made to happen every time.
    const proxy = await holdingProxy(api.url, async (req) => {
      if (req.method === 'GET' && /\/v1\/threads\/[^/]+\/events/.test(req.url ?? '')) {
        await eventually(async () => (await api.runtime.getThread(thread.id))?.status === 'completed', 45_000);
      }
    });

    const approved = await runCli(['approve', thread.id, '--comment', 'ok', '--wait'], { env: { TWELVE_URL: proxy, TWELVE_API_KEY: keys.fiona.key } });

    expect(approved.stderr).toBe('');
    expect(approved.code).toBe(0);
    expect(approved.stdout).toMatch(/approved +pay approved by fiona@example.com: "ok"/);
    expect(approved.stdout).toMatch(/tool result +pay \{"paid":500\}/);
    expect(approved.stdout).toMatch(/completed +"paid"/);
    const seqs = printedSeqs(approved.stdout);
    const decided = (await api.runtime.loadEvents(thread.id)).find((e) => e.type === 'approval_decided')!.seq;
    expect(seqs).toEqual(seqs.map((_, i) => decided + i));
    expect(seqs.at(-1)).toBe((await api.runtime.getThread(thread.id))!.seq);
  });
});
