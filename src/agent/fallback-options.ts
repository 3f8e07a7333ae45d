/**
 * The options that say how an agent's answer is judged and what stands in for the models:
 * `confidence` (where the output carries one), `fallback` and `fallbackOn` (the non-LLM
 * fallback). Checked by defineAgent, every problem named; resolved here for the runtime.
 */
import type { z } from 'zod';
import type { AgentOptions } from './define-agent.js';

export type FallbackReason = 'models_failed' | 'blocked' | 'budget';
export const fallbackReasons: readonly FallbackReason[] = ['models_failed', 'blocked', 'budget'];
/** When a fallback answers unless the agent says otherwise: a budget breach still waits for a person (it is a decision about money). */
export const defaultFallbackOn: readonly FallbackReason[] = ['models_failed', 'blocked'];

type Options = Pick<AgentOptions<z.ZodType, z.ZodType | undefined>, 'confidence' | 'fallback' | 'fallbackOn' | 'output'>;

/** Adds one line per problem of `confidence`, `fallback` and `fallbackOn` to `problems`. */
export function checkFallbackOptions(options: Options, problems: string[]): void {
  const { fallback, fallbackOn, confidence } = options;
  if (fallback !== undefined && typeof fallback !== 'function') problems.push(`fallback must be a function (input, ctx) => output (got ${typeof fallback})`);
  if (fallbackOn !== undefined) {
    if (fallback === undefined) problems.push('fallbackOn is set but there is no fallback function');
    if (!Array.isArray(fallbackOn) || fallbackOn.length === 0) {
      problems.push(`fallbackOn must be a non-empty list of ${fallbackReasons.map((r) => `"${r}"`).join(', ')} (got ${JSON.stringify(fallbackOn)})`);
    } else {
      const unknown = fallbackOn.filter((reason) => !fallbackReasons.includes(reason));
      if (unknown.length > 0) problems.push(`fallbackOn has ${unknown.map((r) => JSON.stringify(r)).join(', ')}; allowed: ${fallbackReasons.map((r) => `"${r}"`).join(', ')}`);
      if (new Set(fallbackOn).size !== fallbackOn.length) problems.push(`fallbackOn lists a reason twice (${JSON.stringify(fallbackOn)})`);
    }
  }
  if (confidence === undefined || typeof confidence === 'function') return;
  if (typeof confidence !== 'string' || !confidence.trim()) {
    problems.push(`confidence must be the name of a numeric output field or a function of the output (got ${JSON.stringify(confidence)})`);
    return;
  }
  if (!options.output) {
    problems.push(`confidence names the field "${confidence}", but the agent has no output schema (its output is text): declare one, or give a function`);
    return;
  }
  const shape = objectShape(options.output);
  if (!shape) return; // not a plain object schema (a union, say): the field is read when there, ignored when not
  const field = shape[confidence];
  if (!field) problems.push(`confidence names the field "${confidence}", which is not in the output schema (fields: ${Object.keys(shape).join(', ') || 'none'})`);
  else if (innerType(field) !== 'number') problems.push(`confidence names the field "${confidence}", which is a ${innerType(field)} in the output schema, not a number`);
}

/** When this agent's fallback answers; empty when it has none. */
export function fallbackOnOf(options: Pick<Options, 'fallback' | 'fallbackOn'>): readonly FallbackReason[] {
  if (typeof options.fallback !== 'function') return [];
  return options.fallbackOn ?? defaultFallbackOn;
}

interface SchemaInternals {
  _zod?: { def?: { type?: string; shape?: Record<string, z.ZodType>; innerType?: z.ZodType } };
}

function objectShape(schema: z.ZodType): Record<string, z.ZodType> | undefined {
  const def = (schema as SchemaInternals)._zod?.def;
  return def?.type === 'object' ? def.shape : undefined;
}

/** The type of a schema under optional / nullable / default wrappers ("number", "string", ...). */
function innerType(schema: z.ZodType): string {
  let def = (schema as SchemaInternals)._zod?.def;
  for (let depth = 0; def && def.innerType && depth < 8; depth++) def = (def.innerType as SchemaInternals)._zod?.def;
  return def?.type ?? 'unknown';
}
