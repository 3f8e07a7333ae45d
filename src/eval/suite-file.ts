/**
 * Suite files: `evals/<agent>.jsonl` beside the project's twelve.config.ts, one case per line
 * (blank lines and lines starting with // are skipped). Reading refuses a bad line or a repeated
 * case id with the file and line number; appending (an accepted proposal, `twelve eval add`)
 * refuses an id the file already has, and writes the line in one append.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { TwelveError } from '../errors.js';
import { parseEvalCase } from './case-schema.js';
import type { EvalCase } from './types.js';

/** Where an agent's suite file lives in a project. */
export function suitePath(projectDir: string, agent: string): string {
  return join(projectDir, 'evals', `${agent}.jsonl`);
}

/** The cases of a suite file, validated; a missing file is an error naming where it was looked for. */
export function readSuiteFile(path: string): EvalCase[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new TwelveError('usage', code === 'ENOENT' ? `no eval suite at ${path}` : `cannot read eval suite ${path}: ${code ?? (error as Error).message}`);
  }
  const cases: EvalCase[] = [];
  const seen = new Map<string, number>();
  text.split('\n').forEach((raw, index) => {
    const line = raw.trim();
    if (!line || line.startsWith('//')) return;
    const where = `${path}:${index + 1}`;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      throw new TwelveError('usage', `${where}: not JSON (${(error as Error).message}); each line is one case object`);
    }
    const parsed = parseEvalCase(value, where);
    const earlier = seen.get(parsed.id);
    if (earlier !== undefined) throw new TwelveError('usage', `${where}: case id "${parsed.id}" is already used on line ${earlier}; ids name cases in reports and must be unique`);
    seen.set(parsed.id, index + 1);
    cases.push(parsed);
  });
  return cases;
}

/** Appends one case (validated) to a suite file, creating it; refuses an id already in the file. */
export function appendCase(path: string, evalCase: EvalCase): void {
  const checked = parseEvalCase(evalCase, `case ${JSON.stringify(evalCase?.id)}`);
  if (existsSync(path)) {
    const existing = readSuiteFile(path);
    if (existing.some((c) => c.id === checked.id)) {
      throw new TwelveError('conflict', `${path} already has a case "${checked.id}"; pick another id`, { details: { id: checked.id } });
    }
  } else {
    mkdirSync(dirname(path), { recursive: true });
  }
  const text = existsSync(path) ? readFileSync(path, 'utf8') : '';
  const separator = text.length > 0 && !text.endsWith('\n') ? '\n' : '';
  appendFileSync(path, `${separator}${JSON.stringify(checked)}\n`);
}
