/** What in a prompt template defeats provider prompt caching: the pure check and `twelve agents ls`. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { promptCacheWarnings } from '../src/agent/prompt-cache-lint.js';
import { scriptedModel, type RenderContextOptions } from '../src/index.js';
import { recordingLogger } from './support/recording-logger.js';
import { supportAgent } from './support/agents.js';
import { makeRuntime } from './support/runtime.js';
import { repoRoot, runCli } from './support/cli.js';
import { tempDir } from './support/temp-dir.js';

describe('promptCacheWarnings', () => {
  it('passes a template that uses only the variables that stay the same at every step', () => {
    expect(promptCacheWarnings('You are {{agent}}: {{purpose}}.\nTools:\n{{tools}}\nAnswer in JSON.')).toEqual([]);
    expect(promptCacheWarnings('No placeholders at all.')).toEqual([]);
  });

  it('warns about a per-step value (it renders empty, and would change the start of every request)', () => {
    const warnings = promptCacheWarnings('Today is {{now}}. You have {{ remaining_budget }} left. Step {{step}} of {{step}}.');
    expect(warnings.map((w) => [w.code, w.placeholder])).toEqual([
      ['unknown_placeholder', '{{now}}'],
      ['unknown_placeholder', '{{remaining_budget}}'],
      ['unknown_placeholder', '{{step}}'],
    ]);
    expect(warnings[0]!.message).toMatch(/^\{\{now\}\} is not a template variable \(\{\{input\}\}, \{\{purpose\}\}, \{\{agent\}\}, \{\{tools\}\}\): it renders as an empty string\. If it was meant to bring a value that changes from step to step/);
    expect(warnings[0]!.message).toContain('providers could cache nothing');
  });

  it('tells per-step names by their words, not by substrings', () => {
    const perStep = (template: string) => promptCacheWarnings(template)[0]!.message.includes('changes from step to step');
    for (const name of ['current_time', 'stepCount', 'budget.left', 'TODAY', 'request_uuid']) expect(perStep(`{{${name}}}`), name).toBe(true);
    for (const name of ['account', 'discount', 'update', 'customer_name', 'sequence_name']) expect(perStep(`{{${name}}}`), name).toBe(false);
  });

  it('names an unknown placeholder that does not read like a per-step value without claiming it changes', () => {
    const [warning] = promptCacheWarnings('Company: {{company_name}}');
    expect(warning!.code).toBe('unknown_placeholder');
    expect(warning!.message).toBe(
      '{{company_name}} is not a template variable ({{input}}, {{purpose}}, {{agent}}, {{tools}}): it renders as an empty string. Pass such values in the thread input or a tool result instead.',
    );
  });

  it('warns that the input in the system prompt keeps threads from sharing a cached prefix', () => {
    const warnings = promptCacheWarnings('Customer {{input.customer}} asks: {{input}}');
    expect(warnings.map((w) => [w.code, w.placeholder])).toEqual([
      ['input_in_prompt', '{{input.customer}}'],
      ['input_in_prompt', '{{input}}'],
    ]);
    expect(warnings[1]!.message).toMatch(/threads share no cached prefix .*The input is already the first user message/);
  });
});

describe('twelve agents ls and prompt caching', () => {
  it('shows each agent\'s template warnings and whether caching is off, in text and JSON', async () => {
    const dir = tempDir();
    const twelve = pathToFileURL(join(repoRoot, 'dist/index.js')).href;
    writeFileSync(
      join(dir, 'twelve.config.mjs'),
      `import { defineAgent, defineConfig } from '${twelve}';
const model = 'anthropic:claude-sonnet-4-5-20250929';
const clean = defineAgent({ name: 'clean', purpose: 'Stable prompt', model, prompt: { text: 'You are {{agent}}. {{purpose}}' } });
const clock = defineAgent({ name: 'clock', purpose: 'Puts the time in its prompt', model, prompt: { text: 'The time is {{now}}.' } });
const quiet = defineAgent({ name: 'quiet', purpose: 'Caching off in code', model, cache: 'off', prompt: { text: 'Plain.' } });
export default defineConfig({ agents: [clean, clock, quiet] });
`,
    );
    const env = { TWELVE_DATABASE_URL: `sqlite:${join(dir, 'twelve.db')}` };
    const text = await runCli(['agents', 'ls'], { env, cwd: dir });
    expect(text.stderr).toBe('');
    expect(text.code).toBe(0);
    const blockOf = (name: string) => text.stdout.split('\n').slice(text.stdout.split('\n').findIndex((line) => line.startsWith(`${name} `))).slice(1).join('\n').split(/\n(?=\S)/)[0]!;
    expect(blockOf('clean')).not.toMatch(/prompt cache/);
    expect(blockOf('clock')).toMatch(/^ {2}warning: prompt cache: \{\{now\}\} is not a template variable .* providers could cache nothing/m);
    expect(blockOf('quiet')).toMatch(/^ {2}prompt cache: off \(no Anthropic cache breakpoints, no OpenAI cache key\)$/m);

    // The environment turns caching off without a new release (it is operational, like stream).
    const json = await runCli(['agents', 'ls', '--json'], { env: { ...env, TWELVE_AGENT_CLEAN_CACHE: 'off' }, cwd: dir });
    expect(json.code).toBe(0);
    const rows = json.stdout.trim().split('\n').map((line) => JSON.parse(line));
    const byName = Object.fromEntries(rows.map((row) => [row.name, row]));
    expect(byName.clean.promptCache).toEqual({ cache: 'off', warnings: [] });
    expect(byName.clock.promptCache).toMatchObject({ cache: 'auto', warnings: [{ code: 'unknown_placeholder', placeholder: '{{now}}' }] });
    expect(byName.quiet.promptCache.cache).toBe('off');
    const plain = await runCli(['agents', 'ls', '--json'], { env, cwd: dir });
    expect(JSON.parse(plain.stdout.trim().split('\n')[0]!).releaseId).toBe(byName.clean.releaseId);

    const bad = await runCli(['agents', 'ls'], { env: { ...env, TWELVE_AGENT_CLEAN_CACHE: 'sometimes' }, cwd: dir });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/TWELVE_AGENT_CLEAN_CACHE: must be auto or off/);
  });

  it('refuses an agent whose cache option is neither auto nor off', async () => {
    const { defineAgent } = await import('../src/agent/define-agent.js');
    expect(() =>
      defineAgent({ name: 'odd', purpose: 'Bad option', model: 'openai:gpt-4o-2024-08-06', prompt: { text: 'x' }, cache: 'always' as never }),
    ).toThrow(/defineAgent odd: cache must be "auto" or "off" \(got "always"\)/);
  });
});

describe('a step that changes what an earlier step sent', () => {

  /** Three lookups, then an answer: four model calls in one session. */
  const script = () =>
    scriptedModel([
      { toolCalls: [{ tool: 'lookup_order', args: { orderId: 'A-1001' }, callId: 'c1' }] },
      { toolCalls: [{ tool: 'lookup_order', args: { orderId: 'B-2002' }, callId: 'c2' }] },
      { toolCalls: [{ tool: 'lookup_order', args: { orderId: 'A-1001' }, callId: 'c3' }] },
      { text: 'Both orders are fine.' },
    ]);

  it('warns once, naming the message, when a renderContext puts a step counter in the system prompt', async () => {
    const logger = recordingLogger();
    const { agent } = supportAgent({
      model: 'scripted:cache',
      renderContext: ({ events, defaultMessages }: RenderContextOptions) => {
        const steps = events.filter((e) => e.type === 'model_called').length;
        return defaultMessages.map((m) => (m.role === 'system' ? { ...m, content: `${m.content}\nThis is step ${steps + 1}.` } : m));
      },
    });
    const { runtime } = makeRuntime({ agents: [agent], models: { 'scripted:cache': script() }, logger });
    const thread = await runtime.launch({ agent: 'support', input: 'How are A-1001 and B-2002?' });
    expect((await runtime.runThread(thread.id)).outcome).toBe('completed');
    const warned = logger.lines.filter((l) => l.level === 'warn' && /^prompt cache:/.test(l.message));
    expect(warned).toHaveLength(1);
    expect(warned[0]!.message).toMatch(/^prompt cache: step 2 changed message 1 \(system\) of the previous step's request, so providers bill it and everything after it at the full input price again/);
    expect(warned[0]!.fields).toMatchObject({ threadId: thread.id, agent: 'support', message: 0, role: 'system' });
  });

  it('says nothing when every step only appends (the default rendering)', async () => {
    const logger = recordingLogger();
    const { agent } = supportAgent({ model: 'scripted:cache' });
    const { runtime } = makeRuntime({ agents: [agent], models: { 'scripted:cache': script() }, logger });
    const thread = await runtime.launch({ agent: 'support', input: 'How are A-1001 and B-2002?' });
    expect((await runtime.runThread(thread.id)).outcome).toBe('completed');
    expect(logger.lines.filter((l) => /prompt cache/.test(l.message))).toEqual([]);
  });
});
