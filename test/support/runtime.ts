/**
 * Builds real runtimes for integration tests: a SQLite file in a temp folder, providers
 * pointed at a scripted OpenAI-compatible server on 127.0.0.1, fast retries. Everything
 * is closed when the test ends.
 */
import { join } from 'node:path';
import { onTestFinished } from 'vitest';
import { createRuntime, type Runtime, type RuntimeOptions } from '../../src/index.js';
import type { ThreadEvent } from '../../src/thread/events.js';
import { startScriptedOpenAIServer, type RecordedRequest, type ScriptedServer } from './scripted-openai-server.js';
import { tempDir } from './temp-dir.js';

/** Long enough for the redactor (which ignores values under 8 characters). */
export const testApiKey = 'sk-test-4f9c2a7b1e8d6035';

/** A scripted OpenAI-compatible server for the current test; closed when it ends. */
export async function startServer(): Promise<ScriptedServer> {
  const server = await startScriptedOpenAIServer();
  onTestFinished(() => server.close());
  return server;
}

/** The environment a test runtime sees: its database file and both providers on the scripted server. */
export function testEnv(options: { dbFile: string; server?: ScriptedServer; extra?: NodeJS.ProcessEnv }): NodeJS.ProcessEnv {
  return {
    TWELVE_DATABASE_URL: `sqlite:${options.dbFile}`,
    // Quiet test output: the warnings a runtime logs by default are asserted where they matter.
    TWELVE_LOG: 'off',
    OPENAI_API_KEY: testApiKey,
    ...(options.server ? { OPENAI_BASE_URL: options.server.baseURL, TWELVE_OPENAI_COMPATIBLE_BASE_URL: options.server.baseURL } : {}),
    ...options.extra,
  };
}

export interface TestRuntime {
  runtime: Runtime;
  dir: string;
  dbFile: string;
  env: NodeJS.ProcessEnv;
}

export type MakeRuntimeOptions = Omit<RuntimeOptions, 'env'> & {
  server?: ScriptedServer;
  /** Extra environment variables (added to the test environment). */
  env?: NodeJS.ProcessEnv;
  /** Reuse a folder (and its database) instead of a fresh one. */
  dir?: string;
};

/** A runtime over a fresh SQLite file, talking to `server`; closed when the test ends. Call inside a test. */
export function makeRuntime(options: MakeRuntimeOptions): TestRuntime {
  const { server, env: extra, dir: givenDir, ...runtimeOptions } = options;
  const dir = givenDir ?? tempDir();
  const dbFile = join(dir, 'twelve.db');
  const env = testEnv({ dbFile, ...(server ? { server } : {}), ...(extra ? { extra } : {}) });
  const runtime = createRuntime({ retryBaseMs: 1, ...runtimeOptions, env });
  onTestFinished(() => runtime.close());
  return { runtime, dir, dbFile, env };
}

/** The chat messages a recorded request sent. */
export function messagesOf(request: RecordedRequest | undefined): Array<Record<string, any>> {
  return (request?.body?.messages ?? []) as Array<Record<string, any>>;
}

/** Only the events of some types, typed. */
export function eventsOfType<T extends ThreadEvent['type']>(events: readonly ThreadEvent[], type: T): Array<Extract<ThreadEvent, { type: T }>> {
  return events.filter((e): e is Extract<ThreadEvent, { type: T }> => e.type === type);
}

export function typesOf(events: readonly ThreadEvent[]): string[] {
  return events.map((e) => e.type);
}
