#!/usr/bin/env node
// The `twelve` command. `--version` answers without loading the runtime (cold start).
import { readFileSync, existsSync } from 'node:fs';

const argv = process.argv.slice(2);
if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-v')) {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  process.stdout.write(`twelve ${pkg.version}\n`);
} else {
  const main = new URL('../dist/cli/main.js', import.meta.url);
  if (!existsSync(main)) {
    process.stderr.write('twelve: the CLI is not built; run `npm install` (or `npm run build`) in the twelve-agents package\n');
    process.exit(2);
  }
  // `twelve threads show ... | head`: the reader went away. Stop quietly, as Unix tools do, instead
  // of crashing on an unhandled EPIPE (a step in flight is durable: its thread resumes elsewhere).
  process.stdout.on('error', (error) => {
    if (error.code === 'EPIPE') process.exit(0);
    throw error;
  });
  const { main: run } = await import(main.href);
  process.exitCode = await run(argv);
  // The command is done and has closed what it opened: whatever still holds the event loop (an
  // OTLP exporter retrying a collector that is down, after the runtime's bounded flush) is dropped.
  setTimeout(() => process.exit(), 500).unref();
}
