/**
 * Runs the API on a port: `twelve serve` (API only; workers run elsewhere) and
 * `twelve dev` (API + worker + console in one process on the embedded store). The API
 * process also delivers notifications (TWELVE_NOTIFY_URL), so a fleet of `serve` and
 * `worker` processes notifies people whichever of them has the variable.
 * On SIGTERM the server reports draining on /readyz, stops accepting, and closes.
 */
import { randomBytes } from 'node:crypto';
import { serve, type ServerType } from '@hono/node-server';
import type { Runtime } from '../runtime/runtime.js';
import { TwelveError } from '../errors.js';
import { DestinationPolicy } from '../notify/destination.js';
import { safeWebhookUrl } from '../notify/webhook.js';
import { createApp, type AppOptions } from './app.js';
import { KeyRing, parseApiKeys, type ApiKey } from './auth.js';
import { FailureThrottle, type ThrottleOptions } from './auth-throttle.js';
import { loadChatExample, loadConsoleAssets } from './console-assets.js';
import { Metrics } from './metrics.js';
import { loadServerConfig, type ServerLimits } from './server-config.js';
import { StreamSlots } from './stream-slots.js';

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
  /**
   * `twelve dev` without TWELVE_API_KEYS: a key of every role the console fetches from
   * GET /dev/session, handed out (and accepted) only for requests from this machine that name
   * it (see local-request.ts). Never together with configured keys.
   */
  bootKey?: { key: string; name: string };
  /** Where webhook results may go. Default: TWELVE_HOOK_CALLBACK_URLS (public addresses only when unset). */
  callbackPolicy?: DestinationPolicy;
  /** Default: TWELVE_HTTP_* (see server-config.ts). */
  limits?: Partial<ServerLimits>;
  /** Failed authentications per client address (default: 20 at once, 1 more per second). */
  authThrottle?: ThrottleOptions;
  /** The project directory, where accepted eval proposals are written (evals/<agent>.jsonl). */
  projectDir?: string;
  /** Deliver notifications from this process when TWELVE_NOTIFY_URL is set (default true). */
  notifications?: boolean;
  /** The MCP endpoint at /mcp (`twelve mcp --http` sets how long tools wait). */
  mcp?: AppOptions['mcp'];
}

export interface RunningServer {
  url: string;
  port: number;
  /** Lines for the start-up message: what is public, who signs the console in, what this process delivers. */
  notes: string[];
  /** /readyz answers 503 from now on. */
  drain(): void;
  close(): Promise<void>;
}

export function parseHookSecrets(text: string | undefined): Map<string, string> {
  const secrets = new Map<string, string>();
  for (const entry of (text ?? '').split(';').map((e) => e.trim()).filter(Boolean)) {
    // The secret is everything after the first "=" (base64 secrets end in it).
    const at = entry.indexOf('=');
    const [agent, secret] = at < 0 ? [entry, ''] : [entry.slice(0, at).trim(), entry.slice(at + 1).trim()];
    if (!agent || !secret || secret.length < 16) throw new TwelveError('config_invalid', `TWELVE_HOOK_SECRETS: "${agent || entry}=..." must be agent=secret with a secret of at least 16 characters`);
    secrets.set(agent, secret);
  }
  return secrets;
}

export async function startServer(options: StartServerOptions): Promise<RunningServer> {
  const env = process.env;
  const apiKeys = options.apiKeys ?? parseApiKeys(env.TWELVE_API_KEYS);
  const hookSecrets = options.hookSecrets ?? parseHookSecrets(env.TWELVE_HOOK_SECRETS);
  const config = loadServerConfig(env);
  const limits = { ...config.limits, ...options.limits };
  for (const agent of hookSecrets.keys()) options.runtime.release(agent); // unknown agent: a clear error now
  if (options.bootKey && apiKeys.length > 0) {
    throw new TwelveError('config_invalid', 'a dev console key cannot be served alongside TWELVE_API_KEYS: with configured keys, sign the console in with one of them');
  }
  const bootKey: ApiKey[] = options.bootKey ? [{ name: options.bootKey.name, roles: ['reader', 'operator', 'approver'], key: options.bootKey.key, localOnly: true }] : [];
  const keys = new KeyRing([...apiKeys, ...bootKey]);
  if (keys.size === 0) {
    throw new TwelveError('config_invalid', 'TWELVE_API_KEYS is empty: every endpoint but /healthz needs a key (example: TWELVE_API_KEYS="alice=operator,approver=<32 random characters>")');
  }
  let draining = false;
  let port = options.port ?? 0;
  const metrics = new Metrics(options.runtime);
  const consoleAssets = options.console ? loadConsoleAssets() : undefined;
  const chatExample = consoleAssets ? loadChatExample() : undefined;
  const { app, callbacks } = createApp(
    {
      runtime: options.runtime,
      keys,
      hookSecrets,
      callbackPolicy: options.callbackPolicy ?? new DestinationPolicy({ rules: config.callbackRules }),
      metrics,
      throttle: new FailureThrottle(options.authThrottle),
      streams: new StreamSlots(limits.maxStreamsPerKey),
      ...(options.bootKey ? { devSession: { apiKey: options.bootKey.key, user: options.bootKey.name } } : {}),
      port: () => port,
      draining: () => draining,
      ...(options.projectDir ? { projectDir: options.projectDir } : {}),
    },
    { ...(consoleAssets ? { console: consoleAssets, ...(chatExample ? { chat: chatExample } : {}) } : {}), ...(options.mcp ? { mcp: options.mcp } : {}) },
  );
  const host = options.host ?? '127.0.0.1';
  const server = await new Promise<ServerType>((resolve, reject) => {
    const s = serve(
      {
        fetch: app.fetch,
        hostname: host,
        port,
        serverOptions: {
          headersTimeout: limits.headersTimeoutMs,
          requestTimeout: limits.requestTimeoutMs,
          // Node checks those timeouts on this interval (default 30 s, far longer than the timeouts).
          connectionsCheckingInterval: Math.min(1_000, limits.headersTimeoutMs),
        },
      },
      () => resolve(s),
    );
    s.once('error', (error: NodeJS.ErrnoException) =>
      reject(new TwelveError('config_invalid', error.code === 'EADDRINUSE' ? `port ${options.port} on ${host} is already in use (set PORT)` : `cannot listen on ${host}:${options.port}: ${error.message}`)),
    );
  });
  (server as { maxConnections?: number }).maxConnections = limits.maxConnections;
  const address = server.address();
  port = typeof address === 'object' && address ? address.port : port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const notes = [
    `public (no key): GET /healthz, GET /readyz, GET /openapi.json${consoleAssets ? ', the console files at /' : ''}${hookSecrets.size ? `, POST /v1/hooks/{${[...hookSecrets.keys()].join(',')}} (signed)` : ''}; /metrics, /mcp and the rest of /v1 need a key`,
  ];
  if (options.bootKey) {
    notes.push(`console: http://127.0.0.1:${port}/ signs in by itself as ${options.bootKey.name} from this machine only; API key for this run: ${options.bootKey.key}`);
  }
  const notify = options.runtime.config.notify;
  if (options.notifications !== false && options.runtime.startNotifier()) {
    notes.push(`notifications: delivered from this process to ${safeWebhookUrl(notify!.url)}`);
  }
  return {
    url,
    port,
    notes,
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
