/** Network helpers shared by the servers. */
import type { AddressInfo } from 'node:net';

/** The environment variable a policy server's (or a robot port's) API key may come from, and its clients' key. */
export const API_KEY_ENV = 'VLALAB_API_KEY';

/** `scheme://host:port` of a listening server, with the host it is actually bound to (IPv6 in brackets). */
export function boundUrl(scheme: 'ws' | 'http', address: AddressInfo): string {
  const host = address.address.includes(':') ? `[${address.address}]` : address.address;
  return `${scheme}://${host}:${address.port}`;
}
