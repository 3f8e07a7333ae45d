/**
 * Secret redaction. Any environment value whose name looks like a credential
 * (…KEY, …SECRET, …TOKEN, …PASSWORD, database URLs with a password) is replaced by
 * "[redacted]" wherever it appears in an event, a log line or an error message.
 * User patterns (TWELVE_REDACT_PATTERNS, see redact-patterns.ts) come on top for what people
 * see: `Redactor.forViews(env)` adds them; `Redactor.fromEnv(env)` (what the runtime scrubs
 * events with before appending them) stays secrets-only, so the stored log keeps what the
 * agent saw unless the agent opts into redactAtWrite.
 */
import { applyPatterns, parseRedactPatterns, type RedactPattern } from './redact-patterns.js';

const secretName = /(KEY|SECRET|TOKEN|PASSWORD|PASSWD|CREDENTIALS?)$/i;
/** Names that end like a credential's but hold none (TWELVE_TENANT_KEY names a metadata key, e.g. "customer"). */
const notSecrets = new Set(['TWELVE_TENANT_KEY']);
export const REDACTED = '[redacted]';

export class Redactor {
  private readonly secrets: string[];

  private readonly patterns: RedactPattern[];

  constructor(secrets: Iterable<string>, patterns: RedactPattern[] = []) {
    // Longest first, so a secret that contains another is replaced whole.
    this.secrets = [...new Set([...secrets].filter((s) => s.length >= 8))].sort((a, b) => b.length - a.length);
    this.patterns = patterns;
  }

  /**
   * Secrets and the user's patterns (TWELVE_REDACT_PATTERNS): for logs, traces, exports and the
   * API/console views. Throws RedactPatternError on a bad pattern (loadConfig reports it first).
   */
  static forViews(env: NodeJS.ProcessEnv): Redactor {
    return new Redactor(Redactor.fromEnv(env).secrets, parseRedactPatterns(env.TWELVE_REDACT_PATTERNS));
  }

  /** The same secrets with these patterns (an agent's redactAtWrite uses the view rules at write time). */
  withPatterns(patterns: RedactPattern[]): Redactor {
    return new Redactor(this.secrets, patterns);
  }

  get hasPatterns(): boolean {
    return this.patterns.length > 0;
  }

  static fromEnv(env: NodeJS.ProcessEnv): Redactor {
    const values: string[] = [];
    for (const [name, value] of Object.entries(env)) {
      if (!value || notSecrets.has(name)) continue;
      if (secretName.test(name)) values.push(value);
      // Lists of credentials (TWELVE_API_KEYS, TWELVE_HOOK_SECRETS): each entry's last `=` part is a secret.
      if (/(KEYS|SECRETS)$/i.test(name)) for (const entry of value.split(';')) values.push(entry.split('=').pop()!.trim());
      const password = /^[a-z]+:\/\/[^:/@]+:([^@]+)@/i.exec(value);
      if (password?.[1]) values.push(password[1], decodeURIComponent(password[1]));
    }
    return new Redactor(values);
  }

  get empty(): boolean {
    return this.secrets.length === 0 && this.patterns.length === 0;
  }

  /** Secrets and patterns in free text (a text log line, an error message). */
  scrubText(text: string): string {
    const out = this.scrubSecretsText(text);
    return this.patterns.length ? applyPatterns(this.patterns, out) : out;
  }

  /** Secrets only: safe on serialised JSON, where a pattern could match a bare number. */
  scrubSecretsText(text: string): string {
    let out = text;
    for (const secret of this.secrets) if (out.includes(secret)) out = out.split(secret).join(REDACTED);
    return out;
  }

  /** Returns the value itself when it holds nothing to redact (the common case: no copy). */
  scrub<T>(value: T): T {
    if (this.empty) return value;
    if (typeof value === 'string') return this.scrubText(value) as T;
    if (value === null || typeof value !== 'object') return value;
    let out: T = value;
    if (this.secrets.length) {
      const json = JSON.stringify(value);
      if (json === undefined) return value;
      const scrubbed = this.scrubSecretsText(json);
      if (scrubbed !== json) out = JSON.parse(scrubbed) as T;
    }
    return this.patterns.length ? (scrubStrings(out, (text) => applyPatterns(this.patterns, text)) as T) : out;
  }
}

/** Maps every string value (not keys, not numbers) of a JSON-like value; unchanged parts are shared, not copied. */
function scrubStrings(value: unknown, map: (text: string) => string): unknown {
  if (typeof value === 'string') return map(value);
  if (Array.isArray(value)) {
    let changed = false;
    const out = value.map((item) => {
      const next = scrubStrings(item, map);
      if (next !== item) changed = true;
      return next;
    });
    return changed ? out : value;
  }
  if (value === null || typeof value !== 'object' || value instanceof Date) return value;
  let out: Record<string, unknown> | undefined;
  for (const [key, item] of Object.entries(value)) {
    const next = scrubStrings(item, map);
    if (next !== item) (out ??= { ...(value as Record<string, unknown>) })[key] = next;
  }
  return out ?? value;
}
