/**
 * User redaction patterns (TWELVE_REDACT_PATTERNS): built-in names (email, card, phone) and
 * regular expressions, applied on top of secret redaction to what people and other systems see:
 * logs, traces, exports and the API/console views. The stored log keeps what the agent saw
 * unless the agent opts into redacting at write time (defineAgent({ redactAtWrite: true })).
 *
 *   TWELVE_REDACT_PATTERNS="email,card,/ACME-\d{6}/i"
 *
 * Entries are separated by commas; a regex is written /source/flags and may contain commas
 * (`/\d{3,4}/` is one entry). Patterns apply to string values only, never to numbers or keys,
 * so a 13-digit timestamp is not a card number and redacted JSON stays JSON.
 */
export interface RedactPattern {
  /** The built-in name, or the regex as written. */
  name: string;
  regex: RegExp;
  /** What a match becomes. */
  replacement: string;
  /** Extra check on a match (e.g. Luhn for card numbers): false keeps it. */
  accept?(match: string): boolean;
}

const builtIn: Record<string, Omit<RedactPattern, 'name' | 'replacement'>> = {
  email: { regex: /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g },
  // 13 to 19 digits, optionally grouped by spaces or dashes, passing the Luhn check.
  card: { regex: /(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-])/g, accept: (match) => luhn(match.replace(/\D/g, '')) },
  // International (+...) or North American shapes with separators; bare digit runs and ISO dates do not match.
  // Not part of a longer run of digit groups (a card number is not three phone numbers).
  phone: { regex: /(?<![\w+]|\d[ .-])(?:\+\d{1,3}[ .-]?)?(?:\(\d{2,4}\)|\d{2,4})[ .-]\d{3,4}[ .-]\d{3,4}(?![\w-]|[ .]\d)/g },
};

export const builtInPatternNames = Object.keys(builtIn);

/** A problem with one entry, for the config error (names the variable and the entry). */
export class RedactPatternError extends Error {}

/** Parses the variable's value; throws RedactPatternError naming the entry that is wrong. */
export function parseRedactPatterns(text: string | undefined): RedactPattern[] {
  const patterns: RedactPattern[] = [];
  for (const entry of splitEntries(text ?? '')) {
    const named = builtIn[entry.toLowerCase()];
    if (named) {
      patterns.push({ name: entry.toLowerCase(), ...named, replacement: `[redacted:${entry.toLowerCase()}]` });
      continue;
    }
    const literal = /^\/(.*)\/([a-z]*)$/s.exec(entry);
    if (!literal) throw new RedactPatternError(`"${entry}" is neither a built-in pattern (${builtInPatternNames.join(', ')}) nor a /regex/`);
    let regex: RegExp;
    try {
      regex = new RegExp(literal[1]!, literal[2]!.includes('g') ? literal[2] : `${literal[2]}g`);
    } catch (error) {
      throw new RedactPatternError(`${entry} is not a valid regular expression (${(error as Error).message})`);
    }
    if (regex.test('')) throw new RedactPatternError(`${entry} matches the empty string: it would redact nothing useful and everything in between`);
    patterns.push({ name: entry, regex, replacement: '[redacted]' });
  }
  return patterns;
}

/** Applies every pattern to one string. */
export function applyPatterns(patterns: RedactPattern[], text: string): string {
  let out = text;
  for (const pattern of patterns) {
    pattern.regex.lastIndex = 0;
    out = out.replace(pattern.regex, (match) => (pattern.accept && !pattern.accept(match) ? match : pattern.replacement));
  }
  return out;
}

/** Comma-separated entries; a /regex/flags entry runs to the closing slash before a comma or the end. */
function splitEntries(text: string): string[] {
  const entries: string[] = [];
  let rest = text.trim();
  while (rest.length > 0) {
    const match = rest.startsWith('/') ? /^(\/(?:\\.|[^\\])*?\/[a-z]*)\s*(?:,|$)/s.exec(rest) : /^([^,]*)(?:,|$)/.exec(rest);
    if (!match) throw new RedactPatternError(`"${rest}" is not a complete /regex/ (no closing slash)`);
    const entry = match[1]!.trim();
    if (entry) entries.push(entry);
    rest = rest.slice(match[0].length).trim();
  }
  return entries;
}

function luhn(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
    sum += d;
  }
  return sum % 10 === 0;
}
