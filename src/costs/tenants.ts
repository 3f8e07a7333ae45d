/**
 * Tenants: a launch metadata key named in config (TWELVE_TENANT_KEY, e.g. `customer`) whose
 * value attributes a thread's spend to a customer. The tenant is fixed when the thread is
 * created (threads.tenant) and each model call's spend is added to tenant_spend in the same
 * transaction as its event, so per-tenant daily caps hold across every process on the store.
 */
import { TwelveError } from '../errors.js';

export interface TenantConfig {
  /** The launch metadata key that names the tenant; undefined: no tenants. */
  key: string | undefined;
  /** Every tenant's cap per UTC day (TWELVE_TENANT_DAILY_COST_USD), unless it has its own. */
  dailyCostUsd: number | undefined;
  /** Per-tenant caps (TWELVE_TENANT_CAPS="acme=5;globex=20"). */
  caps: Map<string, number>;
}

export const noTenants: TenantConfig = { key: undefined, dailyCostUsd: undefined, caps: new Map() };

/** Longest tenant name kept: a key for reports and caps, not a document. */
const maxTenantLength = 200;

/** Reads the three variables; every problem is pushed to `problems` (named, with the value given). */
export function parseTenantConfig(env: NodeJS.ProcessEnv, problems: string[]): TenantConfig {
  const key = env.TWELVE_TENANT_KEY?.trim() || undefined;
  if (key !== undefined && !/^[A-Za-z0-9_.-]{1,100}$/.test(key)) {
    problems.push(`TWELVE_TENANT_KEY: must be a launch metadata key of letters, digits, _ . or - (got "${env.TWELVE_TENANT_KEY}")`);
  }
  let dailyCostUsd: number | undefined;
  const daily = env.TWELVE_TENANT_DAILY_COST_USD;
  if (daily !== undefined && daily !== '') {
    dailyCostUsd = Number(daily);
    if (!Number.isFinite(dailyCostUsd) || dailyCostUsd <= 0) problems.push(`TWELVE_TENANT_DAILY_COST_USD: must be a positive number of US dollars (got "${daily}")`);
  }
  const caps = new Map<string, number>();
  for (const entry of (env.TWELVE_TENANT_CAPS ?? '').split(';').map((e) => e.trim()).filter(Boolean)) {
    const match = /^([^=;\s]+)\s*=\s*([^=;\s]+)$/.exec(entry);
    const usd = match ? Number(match[2]) : NaN;
    if (!match || !Number.isFinite(usd) || usd <= 0) {
      problems.push(`TWELVE_TENANT_CAPS: "${entry}" is not tenant=USD with a positive amount (example: acme=5;globex=20)`);
      continue;
    }
    if (caps.has(match[1]!)) problems.push(`TWELVE_TENANT_CAPS: tenant "${match[1]}" is listed twice`);
    caps.set(match[1]!, usd);
  }
  if (key === undefined && (dailyCostUsd !== undefined || caps.size > 0)) {
    problems.push('TWELVE_TENANT_DAILY_COST_USD and TWELVE_TENANT_CAPS need TWELVE_TENANT_KEY: name the launch metadata key that says which tenant a thread is for');
  }
  return { key, dailyCostUsd, caps };
}

/**
 * The tenant a launch is for: its metadata value under the configured key (a string, or a number
 * written as one). Absent: no tenant. Anything else is refused at launch, so spend is never
 * attributed to a name nobody typed.
 */
export function tenantOf(metadata: Record<string, unknown> | undefined, key: string | undefined): string | undefined {
  if (key === undefined || metadata === undefined || !Object.hasOwn(metadata, key)) return undefined;
  const value = metadata[key];
  if (value === undefined || value === null) return undefined;
  const text = typeof value === 'number' && Number.isFinite(value) ? String(value) : typeof value === 'string' ? value.trim() : undefined;
  if (text === undefined || text === '' || text.length > maxTenantLength) {
    throw new TwelveError('usage', `metadata.${key} names the thread's tenant (TWELVE_TENANT_KEY), so it must be a non-empty string or a number of at most ${maxTenantLength} characters (got ${JSON.stringify(value)?.slice(0, 80)})`, {
      details: { key },
    });
  }
  return text;
}

/** tenantOf for a thread already created: a value that would now be refused attributes to no tenant. */
export function recordedTenantOf(metadata: Record<string, unknown> | undefined, key: string | undefined): string | undefined {
  try {
    return tenantOf(metadata, key);
  } catch {
    return undefined;
  }
}

/** The tenant's daily cap: its own, else the default; undefined: no cap. */
export function tenantCap(config: TenantConfig, tenant: string | undefined): number | undefined {
  if (tenant === undefined) return undefined;
  return config.caps.get(tenant) ?? config.dailyCostUsd;
}
