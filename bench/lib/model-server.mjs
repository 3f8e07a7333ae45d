// A minimal OpenAI-compatible chat server on 127.0.0.1 for multi-process benchmarks: each
// request gets `latencyMs` of delay, then a noop tool call until `steps` tool results are
// in the conversation, then "done". (The test suite has a fuller scripted server.)
import { createServer } from 'node:http';

export async function startModelServer({ latencyMs = 0, steps = 4 } = {}) {
  let requests = 0;
  let counter = 0;
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      requests++;
      const request = JSON.parse(body || '{}');
      const done = (request.messages ?? []).filter((m) => m.role === 'tool').length;
      const message =
        done < steps
          ? { role: 'assistant', content: null, tool_calls: [{ id: `call_${++counter}`, type: 'function', function: { name: 'noop', arguments: JSON.stringify({ i: done }) } }] }
          : { role: 'assistant', content: 'done' };
      const reply = JSON.stringify({
        id: `cmpl_${counter}`,
        object: 'chat.completion',
        created: Math.floor(Date.now() / 1000),
        model: request.model,
        choices: [{ index: 0, message, finish_reason: done < steps ? 'tool_calls' : 'stop' }],
        usage: { prompt_tokens: 100, completion_tokens: 10, total_tokens: 110 },
      });
      setTimeout(() => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(reply);
      }, latencyMs);
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  server.keepAliveTimeout = 60_000;
  return {
    baseURL: `http://127.0.0.1:${server.address().port}/v1`,
    get requests() {
      return requests;
    },
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(resolve);
    }),
  };
}
