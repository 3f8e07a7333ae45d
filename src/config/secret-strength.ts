/**
 * Keys and secrets copied from documentation ("<32+ random chars>", "changeme") must not
 * reach production. A value is refused when it is too short, has spaces or brackets, or has
 * too few distinct characters to be random; the message says how to make a real one.
 */
const minimumDistinct = 8;

/** Why `value` is not usable as a key or secret, or undefined when it is. */
export function secretProblem(value: string, minLength = 16): string | undefined {
  if (value.length < minLength) return `must be at least ${minLength} characters (got ${value.length})`;
  if (/[\s<>{}[\]"'`]/.test(value) || /^(change.?me|your[-_ ]?(api[-_ ]?)?(key|secret)|placeholder|example|secret|password)/i.test(value)) {
    return 'looks like a placeholder from the documentation, not a random value';
  }
  if (new Set(value).size < minimumDistinct) return `has only ${new Set(value).size} distinct characters; use a random value`;
  return undefined;
}

/** How to make a good one, for error messages. */
export const secretHint = 'make one with: openssl rand -base64 32';
