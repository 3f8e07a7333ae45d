/**
 * API keys. TWELVE_API_KEYS="alice=approver,reader=tw_k1...;ci-bot=operator=tw_k2..." gives
 * each key a name and roles: reader (read), operator (launch, pause, resume, cancel),
 * approver (decide, answer, raise budgets); any role may read. The name is what the audit
 * trail records as the decider, so nobody can approve as someone else. Keys are compared
 * in constant time (fixed-length digests) and never logged.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { secretHint, secretProblem } from '../config/secret-strength.js';
import { TwelveError } from '../errors.js';

export const roles = ['reader', 'operator', 'approver'] as const;
export type Role = (typeof roles)[number];

export interface ApiKey {
  name: string;
  roles: Role[];
  key: string;
  /** Accepted only from this machine, on requests that name it (the `twelve dev` key; see local-request.ts). */
  localOnly?: boolean;
}

export interface Principal {
  name: string;
  roles: Role[];
  localOnly?: boolean;
}

export function parseApiKeys(text: string | undefined, variable = 'TWELVE_API_KEYS'): ApiKey[] {
  const keys: ApiKey[] = [];
  const problems: string[] = [];
  for (const [index, entry] of (text ?? '').split(';').map((e) => e.trim()).filter(Boolean).entries()) {
    // Names and roles never hold "=", a key may (base64 ends in it): the key is all after the second.
    const first = entry.indexOf('=');
    const second = first < 0 ? -1 : entry.indexOf('=', first + 1);
    if (second < 0) {
      problems.push(`entry ${index + 1} is not name=role,role=key`);
      continue;
    }
    const [name, roleList, key] = [entry.slice(0, first), entry.slice(first + 1, second), entry.slice(second + 1)].map((p) => p.trim()) as [string, string, string];
    const entryRoles = roleList.split(',').map((r) => r.trim()).filter(Boolean);
    const unknown = entryRoles.filter((r) => !(roles as readonly string[]).includes(r));
    if (!name) problems.push(`entry ${index + 1} has no name`);
    if (unknown.length) problems.push(`entry ${index + 1} (${name}) has unknown roles ${unknown.join(', ')} (roles: ${roles.join(', ')})`);
    const weak = secretProblem(key);
    if (weak) problems.push(`entry ${index + 1} (${name}): the key ${weak} (${secretHint})`);
    keys.push({ name, roles: entryRoles as Role[], key });
  }
  const names = keys.map((k) => k.name);
  for (const name of new Set(names.filter((n, i) => names.indexOf(n) !== i))) problems.push(`the name ${name} is used by two keys`);
  // One key under two names would act as whichever came last: refuse it (without printing the key).
  const owners = new Map<string, string[]>();
  for (const k of keys) if (k.key) owners.set(k.key, [...(owners.get(k.key) ?? []), k.name]);
  for (const sharing of owners.values()) if (sharing.length > 1) problems.push(`${sharing.join(' and ')} have the same key: give each its own`);
  if (problems.length) throw new TwelveError('config_invalid', `${variable}: ${problems.join('; ')}`);
  return keys;
}

const digest = (value: string) => createHash('sha256').update(value).digest();

export class KeyRing {
  private readonly entries: Array<{ digest: Buffer; principal: Principal }>;

  constructor(keys: ApiKey[]) {
    this.entries = keys.map((k) => ({ digest: digest(k.key), principal: { name: k.name, roles: k.roles, ...(k.localOnly ? { localOnly: true } : {}) } }));
  }

  get size(): number {
    return this.entries.length;
  }

  /** The key's owner, or undefined. Every entry is compared, so timing says nothing about which matched. */
  authenticate(presented: string): Principal | undefined {
    const candidate = digest(presented);
    let found: Principal | undefined;
    for (const entry of this.entries) if (timingSafeEqual(candidate, entry.digest)) found = entry.principal;
    return found;
  }
}

export function allows(principal: Principal, role: Role): boolean {
  if (role === 'reader') return principal.roles.length > 0;
  return principal.roles.includes(role);
}
