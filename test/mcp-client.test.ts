/**
 * MCP tools: an agent uses the tools of real MCP servers the test starts (a node script over
 * stdio, and one over Streamable HTTP on 127.0.0.1), with approval policies and effect classes
 * as on any tool; a server that is down or lacks a tool fails the start clearly; connections
 * close with the runtime (no child left); and `twelve build` pins the servers' schemas in the
 * lock, so a server that changed a schema is refused at start, naming the server and the tool.
 */
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { describe, expect, it, onTestFinished } from 'vitest';
import { connectMcpTools, createRuntime, defineAgent, mcpTools } from '../src/index.js';
import { TwelveError } from '../src/errors.js';
import { eventually, repoRoot, runCli } from './support/cli.js';
import { eventsOfType, makeRuntime, startServer } from './support/runtime.js';
import { tempDir } from './support/temp-dir.js';

const fixture = join(repoRoot, 'test/fixtures/mcp-files-server.mjs');

function filesAgent(server = 'files') {
  return defineAgent({
    name: 'files-agent',
    purpose: 'Tidy a folder',
    model: 'openai:gpt-4o-2024-08-06',
    prompt: { text: 'You tidy files. Tools:\n{{tools}}' },
    tools: [mcpTools(server, { tools: ['read_file', 'delete_file'], approval: { delete_file: 'always' }, effect: { read_file: 'pure' } })],
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The fixture served over Streamable HTTP (stateless, one server per request), behind a bearer token. */
async function startHttpServer(): Promise<{ url: string; close(): Promise<void> }> {
  const { createFilesServer } = (await import(pathToFileURL(fixture).href)) as { createFilesServer: (variant?: string) => { connect(t: unknown): Promise<void>; close(): Promise<void> } };
  const http: Server = createServer(async (req, res) => {
    if (req.headers.authorization !== 'Bearer token-7f3a9c') {
      res.writeHead(401).end();
      return;
    }
    const server = createFilesServer('1');
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    res.on('close', () => void transport.close().then(() => server.close()));
    await server.connect(transport);
    await transport.handleRequest(req, res);
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/mcp`, close: () => new Promise((resolve) => http.close(() => resolve())) };
}

describe('MCP tools', () => {
  it('over stdio: the model calls a pure tool, an approval holds the other, the key reaches the server, and the child ends with the runtime', async () => {
    const dir = tempDir();
    const pidFile = join(dir, 'pids');
    const log = join(dir, 'calls.jsonl');
    const mcp = await connectMcpTools([filesAgent()], { files: { command: process.execPath, args: [fixture], env: { MCP_FILES_LOG: log, MCP_FILES_PIDFILE: pidFile } } });
    const server = await startServer();
    const { runtime } = makeRuntime({ agents: mcp.agents, mcp, server, dir });
    const release = runtime.agents[0]!;
    expect(release.toolSpecs.map((t) => [t.name, t.description])).toEqual([['read_file', 'Read a file by its path'], ['delete_file', 'Delete a file by its path']]);
    expect(release.toolSpecs[0]!.inputSchema).toEqual({ type: 'object', properties: { path: { type: 'string' } }, required: ['path'] });
    expect(release.approvals.get('delete_file')!.policy).toBe('always');
    expect((release.manifest.toolBehaviour as Record<string, { effect: string }>).read_file!.effect).toBe('pure');

    server.enqueue(
      { toolCalls: [{ name: 'read_file', arguments: { path: 'notes.txt' } }, { name: 'delete_file', arguments: { path: 'old.txt' } }] },
      { text: 'Read the notes and deleted old.txt.' },
    );
    const thread = await runtime.launch({ agent: 'files-agent', input: 'Tidy up' });
    expect((await runtime.runThread(thread.id)).outcome).toBe('awaiting_approval');
    let events = await runtime.loadEvents(thread.id);
    expect(eventsOfType(events, 'tool_succeeded').map((e) => e.data.result)).toEqual(['buy milk']);
    expect(existsSync(log)).toBe(false); // delete_file has not run: it waits for a person
    const approval = eventsOfType(events, 'approval_requested')[0]!;
    expect(approval.data.tool).toBe('delete_file');
    await runtime.decide(thread.id, { by: 'alice', approved: true });
    expect((await runtime.runThread(thread.id)).outcome).toBe('completed');
    events = await runtime.loadEvents(thread.id);
    const key = `${thread.id}:${approval.data.callId}`;
    expect(eventsOfType(events, 'tool_started').map((e) => e.data.idempotencyKey)).toEqual([key]);
    expect(eventsOfType(events, 'tool_succeeded').at(-1)!.data.result).toEqual({ deleted: 'old.txt', idempotencyKey: key });
    expect(readFileSync(log, 'utf8').trim().split('\n').map((line) => JSON.parse(line))).toEqual([{ tool: 'delete_file', path: 'old.txt', key }]);

    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    expect(alive(pid)).toBe(true);
    await runtime.close();
    await eventually(() => !alive(pid), 45_000);
  });

  it('over Streamable HTTP with headers; a failing call is a tool failure the model sees', async () => {
    const http = await startHttpServer();
    onTestFinished(() => http.close());
    const mcp = await connectMcpTools([filesAgent('remote')], { remote: { url: http.url, headers: { authorization: 'Bearer token-7f3a9c' } } });
    const server = await startServer();
    const { runtime } = makeRuntime({ agents: mcp.agents, mcp, server });
    server.enqueue({ toolCalls: [{ name: 'read_file', arguments: { path: 'notes.txt' } }, { name: 'read_file', arguments: { path: 'missing.txt' } }] }, { text: 'One of them exists.' });
    const thread = await runtime.launch({ agent: 'files-agent', input: 'Read' });
    expect((await runtime.runThread(thread.id)).outcome).toBe('completed');
    const events = await runtime.loadEvents(thread.id);
    expect(eventsOfType(events, 'tool_succeeded').map((e) => e.data.result)).toEqual(['buy milk']);
    expect(eventsOfType(events, 'tool_failed')[0]!.data.error.message).toContain('no such file: missing.txt');
  });

  it('a server that is down, a tool it lacks or an undeclared server fails the start clearly; an unconnected agent is refused', async () => {
    const http = await startHttpServer();
    await http.close();
    const down = await connectMcpTools([filesAgent('remote')], { remote: { url: http.url, connectTimeoutMs: 5_000 } }).catch((error: unknown) => error);
    expect(TwelveError.is(down) && down.code).toBe('config_invalid');
    expect((down as Error).message).toContain(`MCP server "remote" (${http.url}) is not reachable`);

    const noCommand = await connectMcpTools([filesAgent()], { files: { command: join(tempDir(), 'no-such-server') } }).catch((error: unknown) => error);
    expect((noCommand as Error).message).toMatch(/MCP server "files" \(.*no-such-server\) is not reachable/);

    const lacking = defineAgent({ ...filesAgent().options, tools: [mcpTools('files', { tools: ['read_file', 'rename_file'] })] });
    const missing = await connectMcpTools([lacking], { files: { command: process.execPath, args: [fixture] } }).catch((error: unknown) => error);
    expect((missing as Error).message).toContain('agent files-agent: MCP server "files" has no tool "rename_file" (it lists read_file, delete_file)');

    const undeclared = await connectMcpTools([filesAgent('search')], {}).catch((error: unknown) => error);
    expect((undeclared as Error).message).toContain(`uses MCP server "search", which the config's mcpServers does not declare`);

    expect(() => createRuntime({ agents: [filesAgent()], env: { TWELVE_LOG: 'off' } })).toThrow(/uses tools of MCP server "files": connect them first/);
  });

  it('twelve build pins the schemas; a server that changed one is refused at start, naming the server and the tool', async () => {
    const dir = tempDir();
    const twelve = pathToFileURL(join(repoRoot, 'dist/index.js')).href;
    mkdirSync(join(dir, 'agents'));
    writeFileSync(
      join(dir, 'twelve.config.mjs'),
      `import { defineAgent, defineConfig, mcpTools } from '${twelve}';
const agent = defineAgent({ name: 'files-agent', purpose: 'Tidy a folder', model: 'openai:gpt-4o-2024-08-06', prompt: { text: 'Tidy.' },
  tools: [mcpTools('files', { approval: { delete_file: 'always' } })] });
export default defineConfig({ agents: [agent], mcpServers: { files: { command: process.execPath, args: [${JSON.stringify(fixture)}], env: { MCP_FILES_VARIANT: process.env.MCP_FILES_VARIANT ?? '1' } } } });
`,
    );
    symlinkSync(join(repoRoot, 'node_modules'), join(dir, 'node_modules'), 'dir');
    const env = { TWELVE_DATABASE_URL: `sqlite:${join(dir, 'twelve.db')}`, TWELVE_LOG: 'off', OPENAI_API_KEY: 'sk-test-4f9c2a7b1e8d6035' };
    const build = await runCli(['build'], { cwd: dir, env });
    expect(build.code, build.stderr).toBe(0);
    const lock = JSON.parse(readFileSync(join(dir, 'twelve.lock.json'), 'utf8'));
    expect(lock.agents['files-agent'].tools.map((t: { name: string; mcp: string }) => [t.name, t.mcp])).toEqual([['read_file', 'files'], ['delete_file', 'files']]);

    const ls = await runCli(['agents', 'ls'], { cwd: dir, env });
    expect(ls.code, ls.stderr).toBe(0);
    expect(ls.stdout).toContain('read_file=live (MCP server files)');

    const drifted = await runCli(['run', 'files-agent', '--input', 'tidy'], { cwd: dir, env: { ...env, MCP_FILES_VARIANT: '2' } });
    expect(drifted.code, drifted.stdout).toBe(2);
    expect(drifted.stderr).toContain('MCP server tools differ from the release pinned in twelve.lock.json');
    expect(drifted.stderr).toContain('agent files-agent: MCP server "files", tool read_file: input schema changed');
    const check = await runCli(['build', '--check'], { cwd: dir, env: { ...env, MCP_FILES_VARIANT: '2' } });
    expect(check.code).not.toBe(0);
    expect(check.stdout + check.stderr).toContain('tool read_file: input schema changed');
  });
});
