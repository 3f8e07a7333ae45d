/**
 * A POST to a URL someone else chose (a webhook trigger's callback), made with node:http so
 * the connection goes only to the addresses the destination policy checked: the socket's
 * DNS lookup answers with exactly those, so a name cannot pass the check with one address
 * and be connected to another (DNS rebinding). Redirects are not followed.
 */
import { request as httpRequest, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import type { DestinationPolicy } from './destination.js';

/** Resolves with the response status; the response body is discarded. */
export async function postGuarded(options: { url: string; headers: Record<string, string>; body: string; signal: AbortSignal; policy: DestinationPolicy }): Promise<number> {
  const url = new URL(options.url);
  const addresses = await options.policy.addressesFor(options.url);
  const lookup: LookupFunction = (_hostname, lookupOptions, callback) => {
    const entries = addresses.map((address) => ({ address, family: isIP(address) }));
    if (lookupOptions.all) (callback as (error: null, entries: Array<{ address: string; family: number }>) => void)(null, entries);
    else callback(null, entries[0]!.address, entries[0]!.family);
  };
  const requestOptions: RequestOptions = {
    method: 'POST',
    hostname: url.hostname.replace(/^\[|\]$/g, ''),
    port: url.port || (url.protocol === 'https:' ? 443 : 80),
    path: `${url.pathname}${url.search}`,
    headers: { ...options.headers, 'content-length': String(Buffer.byteLength(options.body)) },
    lookup,
    agent: false,
    signal: options.signal,
  };
  return new Promise<number>((resolve, reject) => {
    const request = (url.protocol === 'https:' ? httpsRequest : httpRequest)(requestOptions, (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode ?? 0));
      response.on('error', reject);
    });
    request.on('error', reject);
    request.end(options.body);
  });
}
