/**
 * Where signing keys may come from. Over plain http: anyone on the network path could swap the
 * keys and sign any token, so http: is accepted only for a loopback host,
 * which never leaves the machine (a local identity provider in development, a test's server).
 */

/** 127.0.0.0/8, ::1 and `localhost`, as WHATWG URL normalizes hostnames (`127.1` → `127.0.0.1`). */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase();
  if (host === 'localhost' || host === '[::1]' || host === '::1') return true;
  const octets = /^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  return octets !== null && octets.slice(1).every((octet) => Number(octet) <= 255);
}

export const JWKS_URL_RULE = 'must be an https: URL (http: only on loopback: 127.0.0.0/8, ::1, localhost)';

/** True when keys may be fetched from `url`: https:, or http: to a loopback host. */
export function isAcceptableJwksUrl(url: URL): boolean {
  if (url.protocol === 'https:') return true;
  return url.protocol === 'http:' && isLoopbackHost(url.hostname);
}
