import { lookup as dnsLookup } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { AppError } from '../../lib/errors.ts';

/**
 * The SSRF guard. A webhook URL is chosen by a customer, so the worker must never be made to call into
 * its own network: loopback, private (RFC 1918, IPv6 ULA), link-local (where cloud metadata services
 * live), CGNAT, and every other reserved range are refused. Names are checked after DNS resolution, in
 * the lookup the connection itself uses, so a name that resolves to a public address at creation and to
 * an internal one at delivery (DNS rebinding) is still refused.
 */
const INTERNAL_V4: readonly [string, number][] = [
  ['0.0.0.0', 8], // "this network"
  ['10.0.0.0', 8], // RFC 1918
  ['100.64.0.0', 10], // CGNAT (also Alibaba's metadata address 100.100.100.200)
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local, cloud metadata (169.254.169.254)
  ['172.16.0.0', 12], // RFC 1918
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.0.2.0', 24], // documentation
  ['192.88.99.0', 24], // 6to4 relay
  ['192.168.0.0', 16], // RFC 1918
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24], // documentation
  ['203.0.113.0', 24], // documentation
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
];
const INTERNAL_V6: readonly [string, number][] = [
  ['::', 128], // unspecified
  ['::1', 128], // loopback
  ['64:ff9b:1::', 48], // local-use NAT64
  ['100::', 64], // discard
  ['2001:db8::', 32], // documentation
  ['fc00::', 7], // unique local (also AWS's metadata address fd00:ec2::254)
  ['fe80::', 10], // link-local
  ['fec0::', 10], // old site-local
  ['ff00::', 8], // multicast
];

const internal = new BlockList();
for (const [address, prefix] of INTERNAL_V4) internal.addSubnet(address, prefix, 'ipv4');
for (const [address, prefix] of INTERNAL_V6) internal.addSubnet(address, prefix, 'ipv6');

/** IPv4 carried in IPv6 (mapped ::ffff:a.b.c.d, NAT64 64:ff9b::/96): judged as the IPv4 address it carries. */
function embeddedIpv4(address: string): string | null {
  const lower = address.toLowerCase();
  const dotted = /^(?:::ffff:|64:ff9b::)(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  if (dotted) return dotted[1]!;
  const hex = /^(?:::ffff:|64:ff9b::)([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(lower);
  if (!hex) return null;
  const high = parseInt(hex[1]!, 16);
  const low = parseInt(hex[2]!, 16);
  return `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`;
}

export interface TargetPolicy {
  /** Any internal address allowed (WEBHOOKS_ALLOW_PRIVATE). */
  allowPrivate: boolean;
  /** Internal addresses allowed one by one (WEBHOOKS_ALLOW_PRIVATE_HOSTS). */
  allowed: BlockList;
}

/** Parses WEBHOOKS_ALLOW_PRIVATE_HOSTS: addresses and CIDR ranges; anything else stops the process at start. */
export function createTargetPolicy(config: { WEBHOOKS_ALLOW_PRIVATE: boolean; WEBHOOKS_ALLOW_PRIVATE_HOSTS: string }): TargetPolicy {
  const allowed = new BlockList();
  for (const entry of config.WEBHOOKS_ALLOW_PRIVATE_HOSTS.split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const [address, prefixText] = entry.split('/') as [string, string | undefined];
    const family = isIP(address);
    if (family === 0) throw new Error(`WEBHOOKS_ALLOW_PRIVATE_HOSTS: "${entry}" is not an IP address or CIDR range`);
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (prefixText === undefined) allowed.addAddress(address, type);
    else allowed.addSubnet(address, Number(prefixText), type);
  }
  return { allowPrivate: config.WEBHOOKS_ALLOW_PRIVATE, allowed };
}

/** Why an address may not be called, or null when it may. */
export function refusedAddress(address: string, policy: TargetPolicy): string | null {
  const v4 = isIP(address) === 6 ? embeddedIpv4(address) : address;
  const family = v4 ? 'ipv4' : 'ipv6';
  const judged = v4 ?? address;
  if (!internal.check(judged, family)) return null;
  if (policy.allowPrivate || policy.allowed.check(judged, family) || policy.allowed.check(address, isIP(address) === 6 ? 'ipv6' : 'ipv4')) return null;
  return `${address} is an internal address`;
}

export const blockedTarget = (reason: string): AppError =>
  new AppError(422, 'webhook_url_blocked', 'The webhook URL points at an address this server does not call', { details: [{ field: 'url', message: reason }] });

const invalidUrl = (message: string): AppError =>
  new AppError(422, 'invalid_webhook_url', 'The webhook URL is not valid', { details: [{ field: 'url', message }] });

/** Parses a webhook URL: http(s) only, no credentials in it, and a literal address must be allowed. */
export function parseTargetUrl(raw: string, policy: TargetPolicy): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw invalidUrl('not an absolute URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw invalidUrl('only http and https URLs are allowed');
  if (url.username || url.password) throw invalidUrl('credentials in the URL are not allowed; use a secret path or the signature');
  const host = hostOf(url);
  if (isIP(host)) {
    const reason = refusedAddress(host, policy);
    if (reason) throw blockedTarget(reason);
  }
  return url;
}

/** The URL's host without IPv6 brackets. */
export const hostOf = (url: URL): string => url.hostname.replace(/^\[(.*)\]$/, '$1');

/**
 * A `lookup` for http.request that resolves the name and refuses it when any of its addresses is
 * internal: the connection then goes to an address that was checked, never to one resolved later.
 */
export function guardedLookup(policy: TargetPolicy): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { all: true, ...(options.family !== undefined ? { family: options.family } : {}) }, (error, addresses) => {
      if (error) return callback(error, []);
      const refused = addresses.map((a) => refusedAddress(a.address, policy)).find((reason) => reason !== null);
      if (refused) return callback(Object.assign(new Error(`${hostname}: ${refused}`), { code: 'EBLOCKED' }), []);
      if (options.all) return callback(null, addresses);
      const first = addresses[0]!;
      return callback(null, first.address, first.family);
    });
  };
}

/** Resolves a URL's host now and throws `webhook_url_blocked` if it is internal (the check at create). */
export async function assertAllowedTarget(url: URL, policy: TargetPolicy): Promise<void> {
  const host = hostOf(url);
  if (isIP(host)) return;
  const lookup = guardedLookup(policy);
  await new Promise<void>((resolve, reject) => {
    lookup(host, { all: true }, (error) => {
      if (!error) return resolve();
      if ((error as NodeJS.ErrnoException).code === 'EBLOCKED') return reject(blockedTarget(error.message));
      return reject(invalidUrl(`the host name ${host} does not resolve`));
    });
  });
}
