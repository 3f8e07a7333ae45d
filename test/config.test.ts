/**
 * Configuration from the environment: every problem reported at once, per-agent
 * overrides that show up in the release id, pinned models, and secrets that never reach
 * the event log, the database file or the JSON logs.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { Redactor } from '../src/config/redact.js';
import { createRuntime, defineAgent, defineTool, loadConfig, TwelveError } from '../src/index.js';
import { createLogger } from '../src/log/logger.js';
import { supportAgent } from './support/agents.js';
import { eventsOfType, makeRuntime, startServer, testApiKey, testEnv } from './support/runtime.js';
import { tempDir } from './support/temp-dir.js';

function configError(fn: () => unknown): TwelveError {
  try {
    fn();
  } catch (error) {
    if (error instanceof TwelveError) return error;
    throw error;
  }
  throw new Error('expected a configuration error');
}

describe('loadConfig', () => {
  it('collects every problem into one error, naming each variable', () => {
    const { agent } = supportAgent();
    const error = configError(() =>
      loadConfig(
        {
          TWELVE_LOG: 'yaml',
          TWELVE_LEASE_MS: 'soon',
          OPENAI_BASE_URL: 'not a url',
          TWELVE_MODEL_PRICES: '{bad json',
          TWELVE_AGENT_SUPPORT_MAX_STEPS: '0',
          TWELVE_AGENT_NOBODY_MODEL: 'openai:gpt-4o-2024-08-06',
        },
        [agent],
      ),
    );

    expect(error.code).toBe('config_invalid');
    expect(error.message).toMatch(/^invalid configuration \(6 problems\):/);
    for (const name of ['TWELVE_LOG', 'TWELVE_LEASE_MS', 'OPENAI_BASE_URL', 'TWELVE_MODEL_PRICES', 'TWELVE_AGENT_SUPPORT_MAX_STEPS', 'TWELVE_AGENT_NOBODY_MODEL']) {
      expect(error.message).toContain(`- ${name}: `);
    }
    expect(error.message).toContain('(got "yaml")');
    expect(error.details.problems).toHaveLength(6);
    expect(error.exitCode).toBe(2);
  });

  it('never echoes the value of a secret-looking variable in a problem', () => {
    const error = configError(() => loadConfig({ TWELVE_LOG: 'loud', OPENAI_API_KEY: testApiKey, TWELVE_DATABASE_URL: '' }));
    expect(error.message).toContain('TWELVE_DATABASE_URL');
    expect(error.message).not.toContain(testApiKey);
  });

  it('fills in defaults for an empty environment', () => {
    expect(loadConfig({})).toMatchObject({
      databaseUrl: 'sqlite:.twelve/twelve.db',
      log: 'text',
      modelMode: 'live',
      leaseMs: 30_000,
      prices: {},
      agents: {},
    });
  });

  it('reads per-agent overrides, including for dashed agent names', () => {
    const classifier = defineAgent({ name: 'email-classifier', purpose: 'Classify email', model: 'scripted:c', prompt: { text: 'x' } });
    const config = loadConfig(
      {
        TWELVE_AGENT_EMAIL_CLASSIFIER_MAX_STEPS: '4',
        TWELVE_AGENT_EMAIL_CLASSIFIER_TEMPERATURE: '0.5',
        TWELVE_AGENT_EMAIL_CLASSIFIER_FALLBACK_MODELS: 'openai:gpt-4o-mini-2024-07-18, openai-compatible:llama3.1-8b',
        TWELVE_MAX_CONSECUTIVE_ERRORS: '7',
      },
      [classifier],
    );
    expect(config.agents['email-classifier']).toEqual({
      maxSteps: 4,
      temperature: 0.5,
      fallbackModels: ['openai:gpt-4o-mini-2024-07-18', 'openai-compatible:llama3.1-8b'],
      maxConsecutiveErrors: 7,
    });
  });
});

describe('per-agent overrides', () => {
  it('change the release id, the model that is called, and the release id every event carries', async () => {
    const server = await startServer();
    const base = makeRuntime({ agents: [supportAgent().agent], server });
    const overridden = makeRuntime({
      agents: [supportAgent().agent],
      server,
      env: { TWELVE_AGENT_SUPPORT_MODEL: 'openai:gpt-4o-mini-2024-07-18', TWELVE_AGENT_SUPPORT_TEMPERATURE: '0.2', TWELVE_AGENT_SUPPORT_MAX_STEPS: '5' },
    });
    const plain = base.runtime.release('support');
    const changed = overridden.runtime.release('support');

    expect(changed.releaseId).not.toBe(plain.releaseId);
    expect(changed.models).toEqual(['openai:gpt-4o-mini-2024-07-18']);
    expect(changed.limits.maxSteps).toBe(5);
    expect(changed.settings.temperature).toBe(0.2);
    // The same definition and environment always give the same id.
    expect(makeRuntime({ agents: [supportAgent().agent], server }).runtime.release('support').releaseId).toBe(plain.releaseId);

    server.enqueue({ text: 'hello' });
    const thread = await overridden.runtime.launch({ agent: 'support', input: 'hi' });
    await overridden.runtime.runThread(thread.id);
    expect(server.requests[0]!.model).toBe('gpt-4o-mini-2024-07-18');
    expect(server.requests[0]!.body?.temperature).toBe(0.2);
    const events = await overridden.runtime.loadEvents(thread.id);
    expect(new Set(events.map((e) => e.releaseId))).toEqual(new Set([changed.releaseId]));
    expect((await overridden.runtime.store.getRelease(changed.releaseId))?.manifest).toMatchObject({ models: ['openai:gpt-4o-mini-2024-07-18'], limits: { maxSteps: 5 } });
  });
});

describe('floating model ids', () => {
  it('are refused in code with a message that says how to fix it', () => {
    for (const model of ['openai:gpt-4o', 'anthropic:claude-sonnet-4-5', 'openai-compatible:llama-latest']) {
      const error = configError(() => supportAgent({ model }));
      expect(error.code).toBe('agent_invalid');
      expect(error.message).toContain(`"${model}" is a floating alias`);
      expect(error.message).toContain('allowFloatingModel: true');
    }
    const fallback = configError(() => supportAgent({ fallbackModels: ['openai:gpt-4o-mini'] }));
    expect(fallback.message).toContain('fallbackModels[0]: "openai:gpt-4o-mini" is a floating alias');
  });

  it('are refused in the environment, naming the variable', () => {
    const dir = tempDir();
    const error = configError(() =>
      createRuntime({ agents: [supportAgent().agent], env: testEnv({ dbFile: `${dir}/x.db`, extra: { TWELVE_AGENT_SUPPORT_MODEL: 'openai:gpt-4o' } }) }),
    );
    expect(error.code).toBe('config_invalid');
    expect(error.message).toContain('TWELVE_AGENT_SUPPORT_MODEL: "openai:gpt-4o" is a floating alias');
    // Refused before anything was opened.
    expect(existsSync(`${dir}/x.db`)).toBe(false);
  });

  it('are accepted when the agent says allowFloatingModel', () => {
    const { agent } = supportAgent({ model: 'openai:gpt-4o', allowFloatingModel: true });
    const { runtime } = makeRuntime({ agents: [agent], env: { TWELVE_AGENT_SUPPORT_MODEL: 'anthropic:claude-sonnet-4-5' } });
    expect(runtime.release('support').models).toEqual(['anthropic:claude-sonnet-4-5']);
  });

  it('reject a model id without a known provider', () => {
    expect(configError(() => supportAgent({ model: 'gpt-4o-2024-08-06' })).message).toContain('is not of the form provider:model-id');
    expect(configError(() => supportAgent({ model: 'mistral:large-2407' })).message).toContain('unknown provider "mistral"');
  });
});

describe('secrets', () => {
  it('never reach stored events, the database file, model requests or JSON log lines', async () => {
    const server = await startServer();
    const secret = testApiKey;
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk, _encoding, done) {
        lines.push(...String(chunk).split('\n').filter(Boolean));
        done();
      },
    });
    const leaky = defineTool({
      name: 'read_settings',
      description: 'Reads the service settings',
      input: z.object({}),
      run: (_input, ctx) => {
        ctx.logger.info({ apiKey: secret }, `read settings with ${secret}`);
        ctx.logger.child({ credentials: secret }).warn({}, 'child logger bound to a secret');
        ctx.logger.error({ err: new Error(`upstream said ${secret}`) }, 'an error object that mentions the secret');
        return { apiKey: secret, note: `key is ${secret}` };
      },
    });
    const throwing = defineTool({
      name: 'call_upstream',
      description: 'Calls upstream',
      input: z.object({}),
      run: () => {
        throw new Error(`401 for key ${secret}`);
      },
    });
    const { agent } = supportAgent({ tools: [leaky, throwing] });
    const dir = tempDir();
    const extra = { TWELVE_LOG: 'json' };
    // The runtime's own logger writes to stderr; this one is built the same way, into a stream.
    const logger = createLogger({ format: 'json', redactor: Redactor.fromEnv(testEnv({ dbFile: join(dir, 'twelve.db'), server, extra })), destination });
    const { runtime, dbFile } = makeRuntime({ agents: [agent], server, env: extra, dir, logger });
    expect(dbFile).toBe(join(dir, 'twelve.db'));

    server.enqueue(
      { toolCalls: [{ id: 'call_1', name: 'read_settings', arguments: {} }, { id: 'call_2', name: 'call_upstream', arguments: {} }] },
      { text: `Your key is ${secret}.` },
    );
    const thread = await runtime.launch({ agent: 'support', input: `Please check my key ${secret}`, metadata: { requestedWith: secret } });
    const { thread: finished } = await runtime.runThread(thread.id);

    expect(finished.status).toBe('completed');
    const events = await runtime.loadEvents(thread.id);
    const stored = JSON.stringify(events);
    expect(stored).not.toContain(secret);
    expect(stored).toContain('[redacted]');
    expect(eventsOfType(events, 'thread_started')[0]!.data).toMatchObject({ input: 'Please check my key [redacted]', metadata: { requestedWith: '[redacted]' } });
    expect(eventsOfType(events, 'tool_succeeded')[0]!.data.result).toEqual({ apiKey: '[redacted]', note: 'key is [redacted]' });
    expect(eventsOfType(events, 'tool_failed')[0]!.data.error.message).toBe('call_upstream: 401 for key [redacted]');
    expect(finished.output).toBe('Your key is [redacted].');
    expect(JSON.stringify(finished)).not.toContain(secret);

    // The model only ever sees the scrubbed log (the key travels in the Authorization header alone).
    for (const request of server.requests) expect(request.rawBody).not.toContain(secret);

    await runtime.close();
    for (const file of [dbFile, `${dbFile}-wal`]) {
      if (existsSync(file)) expect(readFileSync(file).includes(secret), file).toBe(false);
    }

    expect(lines.length).toBeGreaterThan(events.length);
    expect(lines.some((line) => line.includes('read settings with [redacted]'))).toBe(true);
    expect(lines.some((line) => line.includes('"type":"tool_succeeded"'))).toBe(true);
    for (const line of lines) expect(line).not.toContain(secret);
  });
});
