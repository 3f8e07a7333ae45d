#!/usr/bin/env node
// `npm test` runs this first: the web console's test drives a real browser (Debian's chromium
// through playwright-core, which never downloads a browser of its own). When chromium is
// missing it is installed with apt-get if this is a root shell on Debian/Ubuntu; otherwise
// this says how to get it, and fails before a five-minute suite ends in one failure.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const path = process.env.TWELVE_CHROMIUM_PATH ?? '/usr/bin/chromium';
if (existsSync(path)) process.exit(0);

const has = (command) => spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
if (!process.env.TWELVE_CHROMIUM_PATH && process.getuid?.() === 0 && has('apt-get')) {
  process.stderr.write(`npm test: ${path} is missing; installing Debian's chromium with apt-get (about a minute)\n`);
  const install = () => spawnSync('apt-get', ['install', '-y', 'chromium'], { stdio: ['ignore', 'ignore', 'inherit'] }).status === 0;
  if (install() || (spawnSync('apt-get', ['update'], { stdio: 'ignore' }).status === 0 && install())) {
    if (existsSync(path)) process.exit(0);
  }
}
let found = '';
try {
  found = execFileSync('sh', ['-c', 'command -v chromium || command -v chromium-browser || command -v google-chrome'], { encoding: 'utf8' }).trim();
} catch {}
process.stderr.write(
  `npm test: the web console test needs a Chromium at ${path}.\n` +
    (found ? `  One is at ${found}: run TWELVE_CHROMIUM_PATH=${found} npm test\n` : '  Install it (Debian/Ubuntu: sudo apt-get install -y chromium), or point TWELVE_CHROMIUM_PATH at a Chromium or Chrome binary.\n') +
    '  To run every other test without it: npx vitest run --exclude "test/console*.test.ts"\n',
);
process.exit(1);
