/**
 * Conversations through their real interfaces: POST /v1/threads/{id}/messages (roles, 201/200
 * for a retried messageId, 409s, 400), the typed client's say() with the event stream after the
 * message, and `twelve say` in a child process, locally (runs the turn, prints the reply) and
 * with TWELVE_URL (follows the server's worker).
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createClient } from '../src/client/index.js';
import { keys, startApi, waitForStatus } from './support/api.js';
import { runCli } from './support/cli.js';
import { startServer, testApiKey } from './support/runtime.js';
import { tempDir } from './support/temp-dir.js';

describe('POST /v1/threads/{id}/messages', () => {
  it('continues a completed thread (operator), records a retried messageId once, and refuses what cannot take a message', async () => {
    const api = await startApi({ worker: true });
    const launched = await api.call('POST', '/v1/threads', { body: { agent: 'echo', input: 'hello' } });
    const id = launched.body.thread.id;
    await waitForStatus(api, id, ['completed']);

    expect((await api.call('POST', `/v1/threads/${id}/messages`, { key: 'reader', body: { text: 'again' } })).status).toBe(403);
    const empty = await api.call('POST', `/v1/threads/${id}/messages`, { key: 'ops', body: { text: '  ' } });
    expect(empty.status).toBe(400);

    const sent = await api.call('POST', `/v1/threads/${id}/messages`, { key: 'ops', body: { text: 'again', messageId: 'msg-1' } });
    expect(sent.status).toBe(201);
    expect(sent.body).toMatchObject({ added: true, seq: 4 });
    const done = await waitForStatus(api, id, ['completed']);
    // The model saw both user turns (the echo model repeats every user message it is shown).
    expect(done.output).toBe('echo: hello again');
    const events = (await api.call('GET', `/v1/threads/${id}/events`)).body.events;
    expect(events.map((e: { type: string }) => e.type)).toEqual(['thread_started', 'model_called', 'thread_completed', 'message_added', 'model_called', 'thread_completed']);
    expect(events[3].data).toEqual({ text: 'again', by: 'ops-bot', messageId: 'msg-1' });

    const retried = await api.call('POST', `/v1/threads/${id}/messages`, { key: 'ops', body: { text: 'again', messageId: 'msg-1' } });
    expect(retried.status).toBe(200);
    expect(retried.body).toMatchObject({ added: false, thread: { status: 'completed', seq: 6 } });
    const reused = await api.call('POST', `/v1/threads/${id}/messages`, { key: 'ops', body: { text: 'other', messageId: 'msg-1' } });
    expect(reused.status).toBe(409);

    // Waiting for approval: not completed yet.
    const payer = await api.call('POST', '/v1/threads', { body: { agent: 'payer', input: 'pay 250' } });
    await waitForStatus(api, payer.body.thread.id, ['awaiting_approval']);
    const waiting = await api.call('POST', `/v1/threads/${payer.body.thread.id}/messages`, { key: 'ops', body: { text: 'hurry up' } });
    expect(waiting.status).toBe(409);
    expect(waiting.body.error.message).toMatch(/waits \(approval for pay.*only once it has completed/);
    await api.call('POST', `/v1/threads/${payer.body.thread.id}/cancel`, { key: 'ops', body: {} });
    const cancelled = await api.call('POST', `/v1/threads/${payer.body.thread.id}/messages`, { key: 'ops', body: { text: 'hello?' } });
    expect(cancelled.status).toBe(409);
    expect(cancelled.body.error).toMatchObject({ code: 'thread_not_runnable', message: expect.stringMatching(/cancelled thread cannot be continued/) });

    expect((await api.call('POST', '/v1/threads/th_nope/messages', { key: 'ops', body: { text: 'hi' } })).status).toBe(404);
  });

  it("client.say, then the stream after the message's seq ends with the next answer", async () => {
    const api = await startApi({ worker: true });
    const client = createClient({ url: api.url, apiKey: keys.ops.key });
    const { thread } = await client.launch('echo', 'hi');
    await waitForStatus(api, thread.id, ['completed']);
    const said = await client.say(thread.id, 'there');
    expect(said.added).toBe(true);
    const types: string[] = [];
    let end;
    for await (const item of client.stream(thread.id, { after: said.seq })) {
      if (item.kind === 'end') end = item;
      else types.push(item.event.type);
    }
    expect(types).toEqual(['model_called', 'thread_completed']);
    expect(end).toMatchObject({ status: 'completed' });
    expect((await client.getThread(thread.id)).output).toBe('echo: hi there');
  });
});

describe('twelve say', () => {
  it('runs the next turn here and prints the reply; refuses a cancelled thread with exit 5', async () => {
    const server = await startServer();
    const dir = tempDir();
    const env = { TWELVE_DATABASE_URL: `sqlite:${join(dir, 'twelve.db')}`, OPENAI_API_KEY: testApiKey, OPENAI_BASE_URL: server.baseURL };
    const fixture = 'test/fixtures/strict-answer-agent.ts';
    server.enqueue({ text: '{"answer": "42"}' });
    const run = await runCli(['run', fixture, '--input', 'what is six times seven?'], { env });
    expect(run.code).toBe(0);
    const threadId = run.stdout.split(/\s+/)[0]!;

    server.enqueue({ text: '{"answer": "84"}' });
    const said = await runCli(['say', threadId, 'and doubled?', '--config', fixture, '--as', 'ann'], { env });
    expect(said.stderr).toBe('');
    expect(said.code).toBe(0);
    expect(said.stdout).toMatch(/message +ann: and doubled\?/);
    expect(said.stdout).toMatch(/completed +\{"answer":"84"\}/);
    expect(said.stdout).not.toMatch(/"42"/);
    const messages = server.requests[1]!.body!.messages as Array<{ role: string; content: string }>;
    expect(messages.slice(1).map((m) => `${m.role}: ${m.content}`)).toEqual(['user: what is six times seven?', 'assistant: {"answer": "42"}', 'user: and doubled?']);

    const noWait = await runCli(['say', threadId, 'and halved?', '--config', fixture, '--no-wait', '--message-id', 'h-1'], { env });
    expect(noWait.stderr).toBe('');
    expect(noWait.code).toBe(0);
    expect(noWait.stdout).toContain(`${threadId} is runnable`);
    const cancel = await runCli(['cancel', threadId, '--config', fixture, '--as', 'ann'], { env });
    expect(cancel.code).toBe(0);
    const refused = await runCli(['say', threadId, 'hello?', '--config', fixture], { env });
    expect(refused.code).toBe(5);
    expect(refused.stderr).toMatch(/cancelled thread cannot be continued/);
  });

  it('with TWELVE_URL, sends the message as the key and follows the server to the reply', async () => {
    const api = await startApi({ worker: true });
    const launched = await api.call('POST', '/v1/threads', { body: { agent: 'echo', input: 'ping' } });
    await waitForStatus(api, launched.body.thread.id, ['completed']);
    const said = await runCli(['say', launched.body.thread.id, 'pong'], { env: { TWELVE_URL: api.url, TWELVE_API_KEY: keys.ops.key } });
    expect(said.stderr).toBe('');
    expect(said.code).toBe(0);
    expect(said.stdout).toMatch(/message +ops-bot: pong/);
    expect(said.stdout).toMatch(/completed +"echo: ping pong"/);
  });
});
