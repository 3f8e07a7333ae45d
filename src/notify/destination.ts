/**
 * Where Twelve may send a request someone else named: the callback URL of a webhook trigger.
 * Without a check, whoever can sign a trigger can make the server POST to its own loopback,
 * the private network, or a cloud metadata address (SSRF).
 *
 * The policy (TWELVE_HOOK_CALLBACK_URLS, comma-separated URL prefixes, `*.` wildcards in the
 * host): with no list, any http(s) URL whose host resolves only to public addresses; with a
 * list, only URLs under one of its entries. What an entry may reach:
 * - a wildcard entry (`https://*.example.com/`), or no list: public addresses only;
 * - an exact host name (`https://ci.internal/hooks/`): also private and loopback addresses,
 *   since the operator named that host, but never link-local (169.254.169.254 is where
 *   cloud metadata lives) nor unspecified, multicast or reserved ones;
 * - an IP literal or `localhost` (`http://127.0.0.1:9000/`): the address it names.
 * Every address a name resolves to is checked, and the connection is made through the same
 * check (see guarded-post.ts), so a name cannot resolve to a public address for the check
 * and a private one for the connection. Redirects are never followed.
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import { TwelveError } from '../errors.js';

export type AddressKind = 'public' | 'private' | 'loopback' | 'link-local' | 'reserved';

const ranges: Array<[AddressKind, string, number, 'ipv4' | 'ipv6']> = [
  ['reserved', '0.0.0.0', 8, 'ipv4'],
  ['private', '10.0.0.0', 8, 'ipv4'],
  ['private', '100.64.0.0', 10, 'ipv4'], // carrier-grade NAT
  ['loopback', '127.0.0.0', 8, 'ipv4'],
  ['link-local', '169.254.0.0', 16, 'ipv4'],
  ['private', '172.16.0.0', 12, 'ipv4'],
  ['reserved', '192.0.0.0', 24, 'ipv4'],
  ['reserved', '192.0.2.0', 24, 'ipv4'],
  ['private', '192.168.0.0', 16, 'ipv4'],
  ['reserved', '198.18.0.0', 15, 'ipv4'],
  ['reserved', '198.51.100.0', 24, 'ipv4'],
  ['reserved', '203.0.113.0', 24, 'ipv4'],
  ['reserved', '224.0.0.0', 4, 'ipv4'], // multicast
  ['reserved', '240.0.0.0', 4, 'ipv4'], // reserved and broadcast
  ['reserved', '::', 128, 'ipv6'],
  ['loopback', '::1', 128, 'ipv6'],
  ['reserved', '100::', 64, 'ipv6'], // discard
  ['reserved', '2001::', 32, 'ipv6'], // Teredo
  ['reserved', '2001:db8::', 32, 'ipv6'],
  ['private', 'fc00::', 7, 'ipv6'],
  ['link-local', 'fe80::', 10, 'ipv6'],
  ['reserved', 'ff00::', 8, 'ipv6'],
];
const lists = new Map<AddressKind, BlockList>();
for (const [kind, network, prefix, family] of ranges) {
  if (!lists.has(kind)) lists.set(kind, new BlockList());
  lists.get(kind)!.addSubnet(network, prefix, family);
}

/** IPv4 inside an IPv6 address (mapped ::ffff:a.b.c.d, NAT64 64:ff9b::/96, 6to4 2002::/16). */
function embeddedIpv4(address: string): string | undefined {
  const lower = address.toLowerCase();
  const dotted = /^(?:::ffff:|64:ff9b::)(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  if (dotted) return dotted[1];
  const groups = expandIpv6(lower);
  if (!groups) return undefined;
  const quad = (hi: number, lo: number) => `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) return quad(groups[6]!, groups[7]!);
  if (groups[0] === 0x64 && groups[1] === 0xff9b && groups.slice(2, 6).every((g) => g === 0)) return quad(groups[6]!, groups[7]!);
  if (groups[0] === 0x2002) return quad(groups[1]!, groups[2]!);
  return undefined;
}

function expandIpv6(address: string): number[] | undefined {
  if (isIP(address) !== 6 || address.includes('.')) return undefined;
  const [head, tail] = address.split('::') as [string, string | undefined];
  const part = (s: string | undefined) => (s ? s.split(':').map((g) => parseInt(g, 16)) : []);
  const start = part(head);
  const end = part(tail);
  if (tail === undefined) return start.length === 8 ? start : undefined;
  return [...start, ...new Array(8 - start.length - end.length).fill(0), ...end];
}

/** What kind of address this is; anything that is not clearly public is not public. */
export function addressKind(address: string): AddressKind {
  const family = isIP(address);
  if (family === 0) return 'reserved';
  if (family === 6) {
    const v4 = embeddedIpv4(address);
    if (v4) return addressKind(v4);
  }
  for (const [kind, list] of lists) if (list.check(address, family === 4 ? 'ipv4' : 'ipv6')) return kind;
  return 'public';
}

export interface DestinationRule {
  /** As configured, for messages. */
  entry: string;
  protocol: 'http:' | 'https:';
  /** Lower case; `*.example.com` matches any name below example.com. */
  host: string;
  /** '' for the protocol's default port. */
  port: string;
  /** Matches this path exactly or anything below it. */
  path: string;
  reach: 'public' | 'named-host' | 'literal';
}

/** Parses TWELVE_HOOK_CALLBACK_URLS; every bad entry is reported at once. */
export function parseDestinationRules(text: string | undefined, variable = 'TWELVE_HOOK_CALLBACK_URLS'): DestinationRule[] {
  const rules: DestinationRule[] = [];
  const problems: string[] = [];
  for (const entry of (text ?? '').split(',').map((e) => e.trim()).filter(Boolean)) {
    const wildcard = /^(https?:\/\/)\*\./i.exec(entry);
    let url: URL;
    try {
      url = new URL(wildcard ? entry.replace('*.', 'wildcard-placeholder.') : entry);
    } catch {
      problems.push(`"${entry}" is not a URL (example: https://hooks.example.com/twelve/)`);
      continue;
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') problems.push(`"${entry}" must be http(s)`);
    else if (url.username || url.password || url.search || url.hash) problems.push(`"${entry}" must have no credentials, query or fragment`);
    else {
      const host = wildcard ? url.hostname.replace('wildcard-placeholder.', '*.') : url.hostname;
      const bare = host.replace(/^\[|\]$/g, '');
      const reach = wildcard ? 'public' : isIP(bare) || bare === 'localhost' ? 'literal' : 'named-host';
      rules.push({ entry, protocol: url.protocol, host, port: url.port, path: url.pathname, reach });
    }
  }
  if (problems.length) throw new TwelveError('config_invalid', `${variable}: ${problems.join('; ')}`);
  return rules;
}

export type DestinationVerdict = { ok: true; rule: DestinationRule | undefined } | { ok: false; reason: string };

export type Resolver = (host: string) => Promise<string[]>;

const systemResolver: Resolver = async (host) => (await dnsLookup(host, { all: true, verbatim: true })).map((a) => a.address);

export class DestinationPolicy {
  private readonly rules: DestinationRule[];
  private readonly resolve: Resolver;
  private readonly variable: string;

  constructor(options: { rules?: DestinationRule[]; resolve?: Resolver; variable?: string } = {}) {
    this.rules = options.rules ?? [];
    this.resolve = options.resolve ?? systemResolver;
    this.variable = options.variable ?? 'TWELVE_HOOK_CALLBACK_URLS';
  }

  /** Scheme, credentials and the allow-list; no DNS. */
  checkUrl(raw: string): DestinationVerdict {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      return { ok: false, reason: 'it is not a URL' };
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return { ok: false, reason: 'it must be http(s)' };
    if (url.username || url.password) return { ok: false, reason: 'it must not contain credentials' };
    if (this.rules.length === 0) return { ok: true, rule: undefined };
    // The entry that allows the most wins: an exact entry beside a wildcard one is the operator's intent.
    const reach = { public: 0, 'named-host': 1, literal: 2 };
    const rule = this.rules.filter((r) => matches(r, url)).sort((a, b) => reach[b.reach] - reach[a.reach])[0];
    if (!rule) return { ok: false, reason: `it is not under any entry of ${this.variable}` };
    return { ok: true, rule };
  }

  /** Whether `address` may be connected to for a URL that matched `rule`. */
  checkAddress(address: string, rule: DestinationRule | undefined, host: string): { ok: true } | { ok: false; reason: string } {
    const kind = addressKind(address);
    if (kind === 'public') return { ok: true };
    if (rule?.reach === 'literal') return { ok: true };
    if (rule?.reach === 'named-host' && (kind === 'private' || kind === 'loopback')) return { ok: true };
    const how = rule ? `the entry "${rule.entry}" does not name that host exactly` : `add the exact URL prefix to ${this.variable} to allow it`;
    return { ok: false, reason: `${host} resolves to a ${kind} address (${address}); ${how}` };
  }

  /** The whole check: URL, allow-list, and every address the host resolves to now. */
  async check(raw: string): Promise<DestinationVerdict> {
    const result = await this.evaluate(raw);
    return result.ok ? { ok: true, rule: result.rule } : result;
  }

  /**
   * The addresses to connect to for `raw`, every one of them checked: connect to these and
   * nothing else (resolving again could give another answer). Throws with the reason.
   */
  async addressesFor(raw: string): Promise<string[]> {
    const result = await this.evaluate(raw);
    if (!result.ok) throw new TwelveError('forbidden', `callback URL refused: ${result.reason}`);
    return result.addresses;
  }

  private async evaluate(raw: string): Promise<{ ok: true; rule: DestinationRule | undefined; addresses: string[] } | { ok: false; reason: string }> {
    const verdict = this.checkUrl(raw);
    if (!verdict.ok) return verdict;
    const host = new URL(raw).hostname.replace(/^\[|\]$/g, '');
    let addresses: string[];
    try {
      addresses = isIP(host) ? [host] : await this.resolve(host);
    } catch (error) {
      return { ok: false, reason: `${host} does not resolve (${(error as NodeJS.ErrnoException).code ?? 'DNS error'})` };
    }
    if (addresses.length === 0) return { ok: false, reason: `${host} does not resolve` };
    for (const address of addresses) {
      const allowed = this.checkAddress(address, verdict.rule, host);
      if (!allowed.ok) return allowed;
    }
    return { ok: true, rule: verdict.rule, addresses };
  }
}

function matches(rule: DestinationRule, url: URL): boolean {
  if (rule.protocol !== url.protocol || rule.port !== url.port) return false;
  const host = url.hostname.toLowerCase();
  if (rule.host.startsWith('*.')) {
    if (!host.endsWith(rule.host.slice(1)) || host.length <= rule.host.length - 1) return false;
  } else if (rule.host !== host) return false;
  if (rule.path === '/' || url.pathname === rule.path) return true;
  const base = rule.path.endsWith('/') ? rule.path : `${rule.path}/`;
  return url.pathname.startsWith(base);
}
