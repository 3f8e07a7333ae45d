/**
 * Secret redaction. Any environment value whose name looks like a credential
 * (…KEY, …SECRET, …TOKEN, …PASSWORD, database URLs with a password) is replaced by
 * "[redacted]" wherever it appears in an event, a log line or an error message.
 */
const secretName = /(KEY|SECRET|TOKEN|PASSWORD|PASSWD|CREDENTIALS?)$/i;
/** Names that end like a credential's but hold none (TWELVE_TENANT_KEY names a metadata key, e.g. "customer"). */
const notSecrets = new Set(['TWELVE_TENANT_KEY']);
export const REDACTED = '[redacted]';

export class Redactor {
  private readonly secrets: string[];

  constructor(secrets: Iterable<string>) {
    // Longest first, so a secret that contains another is replaced whole.
    this.secrets = [...new Set([...secrets].filter((s) => s.length >= 8))].sort((a, b) => b.length - a.length);
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
    return this.secrets.length === 0;
  }

  scrubText(text: string): string {
    let out = text;
    for (const secret of this.secrets) if (out.includes(secret)) out = out.split(secret).join(REDACTED);
    return out;
  }

  /** Returns the value itself when it holds no secret (the common case: no copy). */
  scrub<T>(value: T): T {
    if (this.secrets.length === 0) return value;
    if (typeof value === 'string') return this.scrubText(value) as T;
    if (value === null || typeof value !== 'object') return value;
    const json = JSON.stringify(value);
    if (json === undefined) return value;
    const scrubbed = this.scrubText(json);
    return scrubbed === json ? value : (JSON.parse(scrubbed) as T);
  }
}
