/**
 * Runs the API on a port: `twelve serve` (API only; workers run elsewhere) and
 * `twelve dev` (API + worker + console in one process on the embedded store).
 * On SIGTERM the server reports draining on /readyz, stops accepting, and closes.
 */
import { randomBytes } from 'node:crypto';
import { serve, type ServerType } from '@hono/node-server';
import type { Runtime } from '../runtime/runtime.js';
import { TwelveError } from '../errors.js';
import { createApp } from './app.js';
import { KeyRing, parseApiKeys, type ApiKey } from './auth.js';
import { loadConsoleAssets } from './console-assets.js';
import { Metrics } from './metrics.js';

export interface StartServerOptions {
  runtime: Runtime;
  host?: string;
  port?: number;
  /** Default: TWELVE_API_KEYS. */
  apiKeys?: ApiKey[];
  /** Default: TWELVE_HOOK_SECRETS ("agent=secret;agent2=secret2"). */
  hookSecrets?: Map<string, string>;
  /** Serve the web console at `/`. */
  console?: boolean;
  /** Put this key in the console page so it signs in by itself (`twelve dev` on loopback only). */
  bootKey?: { key: string; name: string };
}

export interface RunningServer {
  url: string;
  port: number;
  /** /readyz answers 503 from now on. */
  drain(): void;
  close(): Promise<void>;
}

export function parseHookSecrets(text: string | undefined): Map<string, string> {
  const secrets = new Map<string, string>();
  for (const entry of (text ?? '').split(';').map((e) => e.trim()).filter(Boolean)) {
    const [agent, secret] = entry.split('=');
    if (!agent || !secret || secret.length < 16) throw new TwelveError('config_invalid', `TWELVE_HOOK_SECRETS: "${agent ?? entry}=..." must be agent=secret with a secret of at least 16 characters`);
    secrets.set(agent.trim(), secret.trim());
  }
  return secrets;
}

export async function startServer(options: StartServerOptions): Promise<RunningServer> {
  const env = process.env;
  const apiKeys = options.apiKeys ?? parseApiKeys(env.TWELVE_API_KEYS);
  const hookSecrets = options.hookSecrets ?? parseHookSecrets(env.TWELVE_HOOK_SECRETS);
  for (const agent of hookSecrets.keys()) options.runtime.release(agent); // unknown agent: a clear error now
  const keys = new KeyRing(options.bootKey ? [...apiKeys, { name: options.bootKey.name, roles: ['reader', 'operator', 'approver'], key: options.bootKey.key }] : apiKeys);
  if (keys.size === 0) {
    throw new TwelveError('config_invalid', 'TWELVE_API_KEYS is empty: every endpoint but /healthz needs a key (example: TWELVE_API_KEYS="alice=operator,approver=<32 random characters>")');
  }
  let draining = false;
  const metrics = new Metrics(options.runtime);
  const boot = options.bootKey ? `<script>window.TWELVE_BOOT=${JSON.stringify({ apiKey: options.bootKey.key, user: options.bootKey.name }).replace(/</g, '\\u003c')}</script>` : '';
  const consoleAssets = options.console ? loadConsoleAssets({ boot }) : undefined;
  const { app, callbacks } = createApp({ runtime: options.runtime, keys, hookSecrets, metrics, draining: () => draining }, consoleAssets ? { console: consoleAssets } : {});
  const host = options.host ?? '127.0.0.1';
  const server = await new Promise<ServerType>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, hostname: host, port: options.port ?? 0 }, () => resolve(s));
    s.once('error', (error: NodeJS.ErrnoException) =>
      reject(new TwelveError('config_invalid', error.code === 'EADDRINUSE' ? `port ${options.port} on ${host} is already in use (set PORT)` : `cannot listen on ${host}:${options.port}: ${error.message}`)),
    );
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : (options.port ?? 0);
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    drain: () => {
      draining = true;
    },
    close: async () => {
      draining = true;
      callbacks.stop();
      metrics.close();
      await new Promise<void>((resolve) => {
        (server as { closeAllConnections?: () => void }).closeAllConnections?.();
        server.close(() => resolve());
      });
    },
  };
}

export function randomKey(): string {
  return `tw_dev_${randomBytes(18).toString('base64url')}`;
}
