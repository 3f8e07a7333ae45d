/**
 * Server-Sent Events read with fetch, so the API key travels in the Authorization header:
 * EventSource cannot send headers, and a key in a URL ends up in access logs and browser
 * history. Like EventSource it reconnects after a dropped connection, resuming with
 * Last-Event-ID; unlike it, an HTTP error (401, 404, 429) is reported and ends the stream.
 */
export function openEventStream(url, { key, lastEventId, onOpen, onMessage, onEnd, onReconnecting, onFail }) {
  const controller = new AbortController();
  let lastId = lastEventId;
  let retryMs = 1000;
  let closed = false;

  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  /** Reads one response to its end; true when the server said the stream is over (`end`). */
  async function read(body) {
    const reader = body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    let message = { event: '', data: [], id: undefined };
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return false;
        buffer += value;
        let newline;
        while ((newline = buffer.search(/\r\n|\r|\n/)) >= 0) {
          const line = buffer.slice(0, newline);
          buffer = buffer.slice(newline + (buffer.startsWith('\r\n', newline) ? 2 : 1));
          if (line === '') {
            if (message.data.length || message.event) {
              if (message.id !== undefined) lastId = message.id;
              const type = message.event || 'message';
              const data = message.data.join('\n');
              if (type === 'end') {
                onEnd?.(data);
                return true;
              }
              onMessage?.(type, data, message.id);
            }
            message = { event: '', data: [], id: undefined };
            continue;
          }
          if (line.startsWith(':')) continue; // keep-alive comment
          const colon = line.indexOf(':');
          const field = colon < 0 ? line : line.slice(0, colon);
          const text = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
          if (field === 'data') message.data.push(text);
          else if (field === 'event') message.event = text;
          else if (field === 'id') message.id = text;
          else if (field === 'retry' && /^\d+$/.test(text)) retryMs = Number(text);
        }
      }
    } catch {
      return false; // the connection dropped mid-stream: reconnect
    } finally {
      reader.releaseLock?.();
    }
  }

  (async () => {
    let delay = retryMs;
    while (!closed) {
      let response;
      try {
        response = await fetch(url, {
          headers: { accept: 'text/event-stream', authorization: `Bearer ${key}`, ...(lastId !== undefined ? { 'last-event-id': String(lastId) } : {}) },
          cache: 'no-store',
          signal: controller.signal,
        });
      } catch {
        if (closed) return;
        onReconnecting?.();
        await sleep(delay);
        delay = Math.min(delay * 2, 15_000);
        continue;
      }
      if (!response.ok || !response.body) {
        response.body?.cancel().catch(() => undefined);
        if (!closed) onFail?.(response.status);
        return;
      }
      delay = retryMs;
      onOpen?.();
      if (await read(response.body)) return;
      if (closed) return;
      onReconnecting?.();
      await sleep(delay);
    }
  })();

  return {
    close() {
      closed = true;
      controller.abort();
    },
  };
}
