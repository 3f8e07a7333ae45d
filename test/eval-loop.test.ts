/**
 * The quality loop closed, through the CLI a team uses: a person rejects a tool call with a
 * comment in production; that correction shows up as a proposed eval case; accepted, it joins the
 * suite; the suite fails on the release that made the mistake and passes once the prompt is
 * fixed. The model is a scripted OpenAI-compatible server on 127.0.0.1 (live mode) that offers a
 * credit only while the system prompt tells it to.
 */
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readSuiteFile } from '../src/eval/suite-file.js';
import { repoRoot, runCli } from './support/cli.js';
import { startServer, testApiKey } from './support/runtime.js';
import { tempDir } from './support/temp-dir.js';

const twelve = pathToFileURL(join(repoRoot, 'dist/index.js')).href;

const agentFile = `import { z } from 'zod';
import { defineAgent, defineTool } from '${twelve}';
const issueCredit = defineTool({
  name: 'issue_credit',
  description: 'Credit a customer account. Moves money.',
  input: z.object({ customer: z.string(), amountCents: z.number().int().positive(), reason: z.string() }),
  approval: 'always',
  run: () => { throw new Error('issue_credit must never run in this test'); },
});
export default defineAgent({
  name: 'late-orders',
  purpose: 'Answer one customer complaint about a late order.',
  model: 'openai:gpt-4o-mini-2024-07-18',
  prompt: new URL('./prompt.md', import.meta.url),
  tools: [issueCredit],
  output: z.object({ decision: z.enum(['credited', 'apologised']) }),
  modelSettings: { temperature: 0 },
});
`;

const creditPrompt = 'Offer a goodwill credit of 500 cents to every customer whose order was late.\n';
const fixedPrompt = 'Apologise to customers whose order was late. Never offer credits: late orders get an apology.\n';

function makeProject(): string {
  const dir = tempDir();
  writeFileSync(join(dir, 'prompt.md'), creditPrompt);
  writeFileSync(join(dir, 'agent.mjs'), agentFile);
  writeFileSync(join(dir, 'twelve.config.mjs'), `import { defineConfig } from '${twelve}';\nimport agent from './agent.mjs';\nexport default defineConfig({ agents: [agent] });\n`);
  mkdirSync(join(dir, 'evals'));
  symlinkSync(join(repoRoot, 'node_modules'), join(dir, 'node_modules'), 'dir');
  return dir;
}

type Message = { role: string; content: string | null };

describe('the quality loop', () => {
  it('turns a rejection with a comment into a case that fails on the release that erred and passes on the fixed one', async () => {
    const dir = makeProject();
    const server = await startServer();
    server.setFallback((request) => {
      const messages = (request.body?.messages ?? []) as Message[];
      const offersCredit = String(messages[0]?.content ?? '').includes('Offer a goodwill credit');
      const answered = messages.some((m) => m.role === 'tool');
      if (offersCredit && !answered) {
        return { toolCalls: [{ name: 'issue_credit', arguments: { customer: 'C-77', amountCents: 500, reason: 'late order goodwill' } }] };
      }
      return { text: JSON.stringify({ decision: 'apologised' }) };
    });
    const env = { TWELVE_DATABASE_URL: `sqlite:${join(dir, 'twelve.db')}`, OPENAI_API_KEY: testApiKey, OPENAI_BASE_URL: server.baseURL, TWELVE_HUMANS: 'alice=support' };
    const cli = (args: string[]) => runCli(args, { cwd: dir, env });

    // Production: the agent offers a credit; a person rejects it and says why.
    const run = await cli(['run', 'late-orders', '--input', 'My order A-1001 arrived a week late.', '--json']);
    expect(run.code, run.stdout + run.stderr).toBe(4);
    const threadId = (run.stdout.match(/th_[0-9a-z]+/) ?? [])[0]!;
    expect(threadId).toBeDefined();
    const rejected = await cli(['reject', threadId, '--as', 'alice', '--comment', 'Late orders get an apology, not a credit']);
    expect(rejected.code, rejected.stdout + rejected.stderr).toBe(0);

    // The correction is a proposed case.
    const listed = await cli(['eval', 'proposals', '--json']);
    expect(listed.code, listed.stderr).toBe(0);
    const proposals = listed.stdout.trim().split('\n').map((line) => JSON.parse(line));
    expect(proposals).toHaveLength(1);
    expect(proposals[0]).toMatchObject({ threadId, agent: 'late-orders', kind: 'rejection', status: 'pending' });
    expect(proposals[0].draft.note).toBe('Late orders get an apology, not a credit');

    // Accepted, it is a case in the agent's suite file.
    const accepted = await cli(['eval', 'proposals', 'accept', proposals[0].id, '--as', 'alice']);
    expect(accepted.code, accepted.stdout + accepted.stderr).toBe(0);
    const suite = readSuiteFile(join(dir, 'evals', 'late-orders.jsonl'));
    expect(suite).toHaveLength(1);
    expect(suite[0]!.input).toBe('My order A-1001 arrived a week late.');
    expect(JSON.stringify(suite[0]!.expect?.tools?.never)).toContain('issue_credit');
    expect(suite[0]!.humans?.approvals).toEqual({ issue_credit: 'reject' });

    // The release that made the mistake fails the case, by name...
    const failing = await cli(['eval', 'late-orders']);
    expect(failing.code, failing.stdout + failing.stderr).toBe(1);
    expect(failing.stdout).toContain(suite[0]!.id);
    expect(failing.stdout).toMatch(/0\/1 passed/);
    expect(failing.stdout).toContain(`${suite[0]!.id}: tools.never: called: issue_credit`);

    // ...and the fixed prompt passes it.
    writeFileSync(join(dir, 'prompt.md'), fixedPrompt);
    const passing = await cli(['eval', 'late-orders']);
    expect(passing.code, passing.stdout + passing.stderr).toBe(0);
    expect(passing.stdout).toMatch(/1\/1 passed/);
    expect(readFileSync(join(dir, 'evals', 'late-orders.jsonl'), 'utf8').trim().split('\n')).toHaveLength(1);
  });
});
