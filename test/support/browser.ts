/**
 * The browser side of the console tests: Debian chromium driven by playwright-core with one set
 * of launch options (a fixed viewport, locale, time zone and colour scheme, so formatted text and
 * screenshots are the same on every machine), pages whose errors the test collects, a bearer-key
 * fetch for the API beside the browser, a poll for what the DOM shows, and the teardown.
 */
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { expect } from 'vitest';

export const chromiumPath = process.env.TWELVE_CHROMIUM_PATH ?? '/usr/bin/chromium';

/** How long a locator waits, and how long `eventually` polls, unless told otherwise. */
const defaultTimeoutMs = 30_000;

// Background fetches, updates, sync and QUIC off: the browser talks only to the test's server.
const chromiumArgs = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'];

/**
 * Headless chromium with its profile in `dir`/chromium-profile: one persistent context, so a key
 * a page stores (localStorage) signs in the pages opened after it.
 */
export async function launchBrowser(dir: string): Promise<BrowserContext> {
  if (!existsSync(chromiumPath)) throw new Error(`the console test needs chromium at ${chromiumPath} (apt-get install -y chromium, or set TWELVE_CHROMIUM_PATH)`);
  const context = await chromium.launchPersistentContext(join(dir, 'chromium-profile'), {
    executablePath: chromiumPath,
    headless: true,
    args: chromiumArgs,
    viewport: { width: 1280, height: 900 },
    locale: 'en-US',
    timezoneId: 'UTC',
    colorScheme: 'light',
  });
  context.setDefaultTimeout(defaultTimeoutMs);
  return context;
}

/** A request the browser made, as the server saw its credentials. */
export interface SeenRequest {
  url: string;
  authorization: string | undefined;
}

export interface PageWatch {
  /** Where uncaught errors and console errors of the page go; a test expects it empty. */
  errors: string[];
  /** When given, every request the page makes (a key must only travel in a header, never in a URL). */
  requests?: SeenRequest[];
}

/** A new tab in `context` whose errors (and, when asked, requests) land in `watch`. */
export async function openWatchedPage(context: BrowserContext, { errors, requests }: PageWatch): Promise<Page> {
  const page = await context.newPage();
  page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`));
  if (requests) page.on('request', (request) => requests.push({ url: request.url(), authorization: request.headers().authorization }));
  page.on('console', (message) => {
    // A 4xx the test provokes on purpose is logged by the browser as a failed resource; anything else is a bug.
    if (message.type() === 'error' && !/Failed to load resource: the server responded with a status of 4\d\d/.test(message.text())) {
      errors.push(`console: ${message.text()}`);
    }
  });
  return page;
}

export type ApiCall = <T = any>(path: string, init?: { method?: string; body?: unknown }) => Promise<{ status: number; body: T }>;

/** Calls the API at `url` as the holder of `key` (Bearer), with JSON in and out. */
export function apiCaller(url: string, key: string): ApiCall {
  return async (path, init = {}) => {
    const response = await fetch(url + path, {
      method: init.method ?? 'GET',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
    });
    return { status: response.status, body: (await response.json()) as any };
  };
}

/** Waits until what the page shows matches: DOM updates come from polling and streaming. */
export function eventually<T>(read: () => Promise<T>, timeout = defaultTimeoutMs): ReturnType<typeof expect.poll<T>> {
  return expect.poll(read, { timeout, interval: 100 });
}

/** The browser of one console test file, made at import and opened in beforeAll once its server runs. */
export interface ConsoleBrowser {
  /** The persistent context; throws before open(). */
  readonly context: BrowserContext;
  /** Errors of every page newPage opened; each test expects it empty. */
  readonly errors: string[];
  /** Every request of those pages, when made with `recordRequests`. */
  readonly requests: SeenRequest[];
  /** Launches chromium with its profile under `dir`, for the server at `url`. */
  open(options: { dir: string; url: string }): Promise<void>;
  newPage(): Promise<Page>;
  /** The API of the server at `url`, as the holder of `key`. */
  api: ApiCall;
  close(): Promise<void>;
}

/**
 * The browser, errors and API caller a console test file shares between its tests. Made at
 * import, so a file can destructure `api`, `newPage` and `errors` once, before beforeAll runs.
 *
 * @example
 * const browser = consoleBrowser({ key: aliceKey });
 * const { api, newPage, errors: pageErrors } = browser;
 * beforeAll(async () => { ...; await browser.open({ dir, url: server.url }); });
 * afterAll(() => tearDown({ open: [browser, server, runtime], dir }));
 */
export function consoleBrowser({ key, recordRequests = false }: { key: string; recordRequests?: boolean }): ConsoleBrowser {
  let context: BrowserContext | undefined;
  let call: ApiCall | undefined;
  const errors: string[] = [];
  const requests: SeenRequest[] = [];
  const notOpen = 'the console browser is not open yet: call open() in beforeAll';
  const opened = () => context ?? fail(notOpen);
  return {
    get context() {
      return opened();
    },
    errors,
    requests,
    async open({ dir, url }) {
      call = apiCaller(url, key);
      context = await launchBrowser(dir);
    },
    newPage: () => openWatchedPage(opened(), { errors, ...(recordRequests ? { requests } : {}) }),
    api: (path, init) => (call ?? fail(notOpen))(path, init),
    close: async () => context?.close(),
  };
}

function fail(message: string): never {
  throw new Error(message);
}

/**
 * Undoes what a console test's beforeAll did: closes what it opened, in order (the browser before
 * the server it talks to, the server before the runtime it serves), skipping what never opened;
 * unsets the environment variables it set; removes its folder.
 */
export async function tearDown({ open, env = [], dir }: { open: Array<{ close(): Promise<void> } | undefined>; env?: string[]; dir: string | undefined }): Promise<void> {
  for (const thing of open) await thing?.close();
  for (const name of env) delete process.env[name];
  if (dir) rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
}
