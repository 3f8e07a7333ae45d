/** .env.example (twelve init) cannot go stale: every variable Twelve reads is documented in config/settings.ts. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { schemaVariables } from '../src/config/env.js';
import { renderEnvExample, settingNames } from '../src/config/settings.js';

function sourceFiles(directory: string): string[] {
  return readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return /\.ts$/.test(entry.name) && !entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

describe('the settings list behind .env.example', () => {
  it('documents every variable of the env schema', () => {
    expect(schemaVariables.length).toBeGreaterThan(20);
    expect(schemaVariables.filter((name) => !settingNames.includes(name))).toEqual([]);
  });

  it('documents every TWELVE_* variable named anywhere in src/', () => {
    const documented = new Set(settingNames);
    // Names that are not variables: the NATS stream's default name, prefixes and patterns in comments.
    const notVariables = new Set(['TWELVE_LAUNCH']);
    const missing = new Set<string>();
    for (const file of sourceFiles('src')) {
      if (file.endsWith(join('config', 'settings.ts'))) continue;
      for (const [name] of readFileSync(file, 'utf8').matchAll(/\bTWELVE_[A-Z0-9_]*[A-Z0-9]\b(?![<_])/g)) {
        if (name.startsWith('TWELVE_AGENT_') || name.startsWith('TWELVE_TOOL_') || notVariables.has(name)) continue;
        if (!documented.has(name)) missing.add(`${name} (${file})`);
      }
    }
    expect([...missing]).toEqual([]);
  });

  it('renders each setting commented out, with its documentation above it', () => {
    const text = renderEnvExample('Twelve settings\nsecond line');
    expect(text.startsWith('# Twelve settings\n# second line\n')).toBe(true);
    expect(text).toContain('# sqlite:<file> (default .twelve/twelve.db');
    expect(text).toContain('\n# TWELVE_DATABASE_URL=sqlite:.twelve/twelve.db\n');
    expect(text).toContain('\n# OPENAI_API_KEY=sk-...\n');
    for (const name of settingNames) expect(text).toContain(`\n# ${name}=`);
    expect(text.split('\n').filter((line) => line && !line.startsWith('#'))).toEqual([]);
  });
});
