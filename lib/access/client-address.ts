import { getConfig } from "@/lib/config";
import type { RequestLike } from "@/lib/http";
import { singleton } from "@/lib/ops/singleton";

/**
 * Who a client is, in one place: its address (what limits count it under), and which
 * forwarding headers are believed. Only a proxy of yours (SSE_TRUST_PROXY, a hop count) may
 * speak for a client; without one, the socket's address is the client's.
 */

/**
 * A forwarding header as the server takes it from a client it does not trust (no proxy of
 * yours in front): `X-Forwarded-For` is the socket's address whatever the client sent, and
 * `X-Forwarded-Host` and `X-Forwarded-Proto` (which Next.js's Server Action origin check
 * reads) are dropped (null). Undefined: not a forwarding header, taken as sent.
 */
export function untrustedForwarding(
  name: string,
  socketAddress: string | undefined,
): string | null | undefined {
  if (name === "x-forwarded-for") return socketAddress ?? "";
  if (name === "x-forwarded-host" || name === "x-forwarded-proto") return null;
  return undefined;
}

/** The headers `untrustedForwarding` speaks for. */
export const FORWARDING_HEADERS = ["x-forwarded-for", "x-forwarded-host", "x-forwarded-proto"];

/**
 * The client's address, from `X-Forwarded-For`: each proxy appends the address it saw, so
 * with SSE_TRUST_PROXY=N (N proxies of yours) it is the Nth entry from the right; whatever
 * stands left of it the client may have written itself. Under `npm start` without trust the
 * header is the socket's address alone; under `next start` put a proxy in front.
 */
export function clientAddress(
  headers: RequestLike["headers"],
  trustedHops = getConfig().trustProxy,
): string {
  const forwarded = headers.get("x-forwarded-for");
  if (!forwarded) return "unknown";
  const entries = forwarded.split(",");
  return entries[Math.max(0, entries.length - Math.max(1, trustedHops))].trim() || "unknown";
}

// Loopback and private ranges (IPv4, IPv4-mapped IPv6, IPv6 loopback and ULA): where a
// proxy of yours connects from.
const PRIVATE_ADDRESS =
  /^(?:::ffff:)?(?:127\.|10\.|192\.168\.|172\.(?:1[6-9]|2\d|3[01])\.)|^::1$|^f[cd][0-9a-f]{2}:/i;

/**
 * Says once, in the log, that one loopback or private address holds more than half of the
 * per-client stream limit while no proxy is trusted: behind a proxy of yours every client
 * is the proxy, and the whole site would get SSE_MAX_STREAMS_PER_CLIENT streams. True when
 * it said so (this time).
 */
export function warnIfOneProxy(
  client: string,
  streams: number,
  perClient: number,
  trustedHops = getConfig().trustProxy,
): boolean {
  if (trustedHops > 0 || perClient === 0 || streams <= perClient / 2) return false;
  if (!PRIVATE_ADDRESS.test(client)) return false;
  const warned = singleton("proxy-crowd-warning", () => ({ said: false }));
  if (warned.said) return false;
  warned.said = true;
  console.warn(
    `[next-sse] one private address holds ${streams} streams (the per-client limit is ${perClient}): behind a proxy of yours every client is the proxy; set SSE_TRUST_PROXY to the number of proxies in front`,
  );
  return true;
}
