/**
 * The two comparisons eval expectations and fixtures use: deep equality with key order ignored,
 * and the JSON subset ("actual contains expected": objects by key, arrays element by element,
 * everything else by equality), with a one-line account of the first difference.
 */
import { stableStringify } from '../util/stable-json.js';

/** Deep equality of JSON values, object key order ignored. */
export function jsonEqual(actual: unknown, expected: unknown): boolean {
  return stableStringify(actual ?? null) === stableStringify(expected ?? null);
}

/** True when `actual` contains `expected`. */
export function jsonSubset(actual: unknown, expected: unknown): boolean {
  return subsetDifference(actual, expected, '') === undefined;
}

/** Where `actual` first fails to contain `expected` ("label: expected "x", got "y""), or undefined. */
export function subsetDifference(actual: unknown, expected: unknown, path = ''): string | undefined {
  const at = path || '(output)';
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) return `${at}: expected a list, got ${brief(actual)}`;
    if (actual.length < expected.length) return `${at}: expected at least ${expected.length} elements, got ${actual.length}`;
    for (const [index, item] of expected.entries()) {
      const difference = subsetDifference(actual[index], item, `${path}[${index}]`);
      if (difference) return difference;
    }
    return undefined;
  }
  if (expected !== null && typeof expected === 'object') {
    if (actual === null || typeof actual !== 'object' || Array.isArray(actual)) return `${at}: expected an object, got ${brief(actual)}`;
    for (const [key, value] of Object.entries(expected)) {
      if (value === undefined) continue;
      const difference = subsetDifference((actual as Record<string, unknown>)[key], value, path ? `${path}.${key}` : key);
      if (difference) return difference;
    }
    return undefined;
  }
  return actual === expected ? undefined : `${at}: expected ${brief(expected)}, got ${brief(actual)}`;
}

/** A value in at most 80 characters, for one-line details. */
export function brief(value: unknown): string {
  const text = value === undefined ? 'nothing' : JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
