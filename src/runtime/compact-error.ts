/**
 * Errors the model must see are compacted to one short line: enough to fix the call,
 * small enough not to flood the context window.
 */
import type { z } from 'zod';
import type { CompactError } from '../thread/events.js';

const maxLength = 400;

export function compact(code: string, message: string): CompactError {
  const oneLine = message.replace(/\s+/g, ' ').trim();
  return { code, message: oneLine.length > maxLength ? `${oneLine.slice(0, maxLength - 1)}…` : oneLine };
}

export function zodIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 6)
    .map((issue) => `${issue.path.length ? issue.path.join('.') : '(root)'}: ${issue.message}`)
    .join('; ');
}

/** Parses a final answer that should be JSON, tolerating a ```json fence around it. */
export function parseJsonAnswer(text: string): { ok: true; value: unknown } | { ok: false; message: string } {
  const fenced = /^\s*```(?:json)?\s*\n?([\s\S]*?)\n?```\s*$/.exec(text);
  const body = (fenced ? fenced[1]! : text).trim();
  try {
    return { ok: true, value: JSON.parse(body) };
  } catch (error) {
    return { ok: false, message: `the final answer must be JSON matching the output schema (${(error as Error).message})` };
  }
}

/** JSON round trip: what a later worker reloads must equal what this worker holds. */
export function toJsonValue(value: unknown): unknown {
  if (value === undefined) return undefined;
  return JSON.parse(JSON.stringify(value));
}
