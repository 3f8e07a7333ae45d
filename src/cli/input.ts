/** `--input text`, `--input @file`, `--input -` (stdin). */
import { readFileSync } from 'node:fs';
import type { z } from 'zod';
import { TwelveError } from '../errors.js';

export function readInputText(value: string): string {
  if (value === '-') {
    try {
      return readFileSync(0, 'utf8').trimEnd();
    } catch (error) {
      throw new TwelveError('usage', `--input -: cannot read standard input (${(error as Error).message})`);
    }
  }
  if (value.startsWith('@')) {
    const path = value.slice(1);
    try {
      return readFileSync(path, 'utf8').trimEnd();
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new TwelveError('usage', `--input ${value}: cannot read ${path} (${code === 'ENOENT' ? 'no such file' : code ?? (error as Error).message})`);
    }
  }
  return value;
}

/** Text for string agents; JSON when the agent's input schema wants structured input and the text parses. */
export function coerceInput(text: string, schema: z.ZodType): unknown {
  if (schema.safeParse(text).success) return text;
  try {
    return JSON.parse(text);
  } catch {
    return text; // the runtime reports what the schema expected
  }
}
