// A worker process up to its first claim, for cold-start.mjs: import Twelve, define
// an agent with a tool, createRuntime on the SQLite file named by argv[2] (opening
// it, WAL, migrations), and one claim attempt (runUntilIdle returns at once: nothing
// is runnable). zod is the library's own copy, as in a project that installs both.
import { z } from '../../node_modules/zod/index.js';
import { createRuntime, defineAgent, defineTool, scriptedModel } from '../../dist/index.js';

const add = defineTool({ name: 'add', description: 'Add two numbers.', input: z.object({ a: z.number(), b: z.number() }), run: ({ a, b }) => a + b });
const agent = defineAgent({ name: 'adder', purpose: 'Add numbers.', model: 'scripted:bench', prompt: { text: 'Add numbers.' }, tools: [add] });
const runtime = createRuntime({ agents: [agent], models: { 'scripted:bench': scriptedModel([]) }, env: { TWELVE_DATABASE_URL: `sqlite:${process.argv[2]}` } });
const ran = await runtime.runUntilIdle();
if (ran !== 0) throw new Error(`expected an idle database, ran ${ran} threads`);
await runtime.close();
