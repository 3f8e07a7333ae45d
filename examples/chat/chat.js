/**
 * A chat page over Twelve, in plain browser JavaScript: the first message launches a thread
 * (POST /v1/threads), then the page reads the thread's AI SDK UI message stream
 * (GET /v1/threads/{id}/ui-stream: start, text-start/-delta/-end, tool-input-available,
 * tool-output-available, error, finish) and renders the assistant message as it grows. After
 * a dropped connection it reconnects: the stream replays what is stored and goes on live.
 * A React app would hand the same endpoint to useChat (a custom transport); see the README.
 */
const $ = (id) => document.getElementById(id);
let threadId; // the conversation's thread, once launched

async function init() {
  // `twelve dev` hands this machine its key; elsewhere, paste one.
  try {
    const response = await fetch('/dev/session', { cache: 'no-store' });
    if (response.ok) $('key').value = (await response.json()).apiKey;
  } catch {}
  if ($('key').value) await loadAgents();
  $('key').addEventListener('change', () => void loadAgents());
  $('composer').addEventListener('submit', (event) => {
    event.preventDefault();
    void send($('input').value.trim());
  });
}

async function loadAgents() {
  try {
    const { agents } = await api('GET', '/v1/agents');
    $('agent').replaceChildren(...agents.map((agent) => new Option(`${agent.name}: ${agent.purpose ?? ''}`, agent.name)));
    status('');
  } catch (error) {
    status(`Could not list agents: ${error.message}`);
  }
}

async function send(text) {
  if (!text) return;
  $('input').value = '';
  $('send').disabled = true;
  addUserMessage(text);
  try {
    if (!$('agent').value) await loadAgents();
    let after = 0;
    if (!threadId) {
      const { thread } = await api('POST', '/v1/threads', { agent: $('agent').value, input: text });
      threadId = thread.id;
    } else {
      // A follow-up turn: POST /v1/threads/{id}/messages (event message_added) continues the
      // completed thread; the ui-stream after the message's seq carries this turn's answer only.
      ({ seq: after } = await api('POST', `/v1/threads/${encodeURIComponent(threadId)}/messages`, { text }));
    }
    await follow(threadId, after);
  } catch (error) {
    status(error.message);
  } finally {
    $('send').disabled = false;
  }
}

/** Reads the UI message stream to its end, reconnecting after a drop. */
async function follow(id, after = 0) {
  const view = assistantView();
  for (let attempt = 0; attempt < 20; attempt++) {
    const response = await fetch(`/v1/threads/${encodeURIComponent(id)}/ui-stream?after=${after}`, { headers: { authorization: `Bearer ${$('key').value}` }, cache: 'no-store' });
    if (!response.ok) throw new Error(`ui-stream: HTTP ${response.status}`);
    const message = { parts: [] }; // rebuilt from the start on every connection
    try {
      for await (const chunk of readChunks(response.body)) {
        apply(message, chunk);
        view.render(message);
        if (chunk.type === 'finish') return view.done(chunk.messageMetadata?.status);
      }
    } catch {
      // dropped mid-stream: reconnect below
    }
    status('reconnecting…');
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

/** One UI message chunk into the message (what the AI SDK's readUIMessageStream does, reduced). */
function apply(message, chunk) {
  const part = (id) => message.parts.find((p) => p.id === id);
  switch (chunk.type) {
    case 'text-start':
      message.parts.push({ type: 'text', id: chunk.id, text: '' });
      break;
    case 'text-delta':
      part(chunk.id).text += chunk.delta;
      break;
    case 'tool-input-available':
      message.parts.push({ type: 'tool', id: chunk.toolCallId, name: chunk.toolName, input: chunk.input });
      break;
    case 'tool-output-available':
      Object.assign(part(chunk.toolCallId) ?? {}, { output: chunk.output });
      break;
    case 'tool-output-error':
      Object.assign(part(chunk.toolCallId) ?? {}, { error: chunk.errorText });
      break;
    case 'error':
      message.parts.push({ type: 'error', text: chunk.errorText });
      break;
  }
}

/** Server-Sent Events of JSON chunks (`data: {...}`), ending at `data: [DONE]`. */
async function* readChunks(body) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) throw new Error('the stream ended early');
    buffer += value;
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const data = block.split('\n').filter((line) => line.startsWith('data:')).map((line) => line.slice(5).trimStart()).join('\n');
      if (!data) continue;
      if (data === '[DONE]') return;
      yield JSON.parse(data);
    }
  }
}

function assistantView() {
  const item = document.createElement('li');
  item.className = 'message assistant streaming';
  $('messages').append(item);
  return {
    render(message) {
      item.replaceChildren(
        ...message.parts.map((part) => {
          const node = document.createElement('div');
          if (part.type === 'text') {
            node.className = 'text';
            node.textContent = part.text;
          } else if (part.type === 'tool') {
            node.className = part.error ? 'tool error' : 'tool';
            const result = part.error ? ` → failed: ${part.error}` : part.output !== undefined ? ` → ${JSON.stringify(part.output)}` : ' …';
            node.textContent = `${part.name}(${JSON.stringify(part.input)})${result}`;
          } else {
            node.className = 'error';
            node.textContent = part.text;
          }
          return node;
        }),
      );
      status('');
    },
    done(threadStatus) {
      item.classList.remove('streaming');
      status(threadStatus && threadStatus !== 'completed' ? `thread ${threadStatus}` : '');
    },
  };
}

function addUserMessage(text) {
  const item = document.createElement('li');
  item.className = 'message user';
  item.textContent = text;
  $('messages').append(item);
}

async function api(method, path, body) {
  const response = await fetch(path, {
    method,
    headers: { authorization: `Bearer ${$('key').value}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const json = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(json.error?.message ?? `HTTP ${response.status}`);
  return json;
}

function status(text) {
  $('status').textContent = text;
}

void init();
