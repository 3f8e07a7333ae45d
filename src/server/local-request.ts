/**
 * What `twelve dev` checks before it hands its all-roles key to a browser, and whenever that
 * key is used: the request must come from this machine (a loopback peer address) AND name
 * this machine (the Host header is 127.0.0.1, [::1] or localhost with the server's port). The
 * peer alone is not enough: with DNS rebinding a page from evil.example reaches 127.0.0.1
 * from the victim's own browser, but its requests still say `Host: evil.example`. State-changing
 * requests must also have no Origin or a loopback one (a cross-site form or fetch has another).
 */
import type { Context } from 'hono';
import { getConnInfo } from '@hono/node-server/conninfo';
import { isIP } from 'node:net';

const loopbackNames = new Set(['127.0.0.1', '[::1]', 'localhost']);

export function peerAddress(c: Context): string | undefined {
  try {
    return getConnInfo(c).remote.address;
  } catch {
    return undefined; // not served by node:http (app.fetch called directly)
  }
}

export function isLoopbackAddress(address: string | undefined): boolean {
  if (!address) return false;
  const v4 = /^(?:::ffff:)?(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  if (v4) return v4.startsWith('127.');
  return isIP(address) === 6 && address === '::1';
}

/** `host:port` names this machine on exactly `port`. */
export function isLoopbackHost(host: string | undefined, port: number): boolean {
  if (!host) return false;
  const match = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(host.trim().toLowerCase());
  return Boolean(match && loopbackNames.has(match[1]!) && Number(match[2]) === port);
}

/** An Origin header value that is this machine's server on `port` (http, loopback name). */
export function isLoopbackOrigin(origin: string, port: number): boolean {
  const match = /^http:\/\/(.+)$/i.exec(origin.trim());
  return Boolean(match && isLoopbackHost(match[1], port));
}

const safeMethods = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Why this request may not use the dev key, or undefined when it may. */
export function localRequestProblem(c: Context, port: number): string | undefined {
  if (!isLoopbackAddress(peerAddress(c))) return 'it does not come from this machine';
  if (!isLoopbackHost(c.req.header('host'), port)) return `its Host header is not 127.0.0.1:${port}, localhost:${port} or [::1]:${port}`;
  const site = c.req.header('sec-fetch-site');
  if (site && site !== 'same-origin' && site !== 'none') return `it comes from another site (Sec-Fetch-Site: ${site})`;
  const origin = c.req.header('origin');
  if (origin !== undefined && (!safeMethods.has(c.req.method) || c.req.path.startsWith('/dev/')) && !isLoopbackOrigin(origin, port)) {
    return `its Origin (${origin.slice(0, 100)}) is not this server`;
  }
  return undefined;
}
