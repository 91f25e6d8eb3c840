import "server-only";
import { getConfig } from "@/lib/server/config";
import { HttpError, type RequestLike } from "@/lib/server/http";
import { singleton } from "@/lib/server/singleton";

// Fixed one-minute windows per bucket and key: cheap, and plenty to stop one client from
// flooding a demo endpoint. Per process: each instance counts its own.
const WINDOW_MS = 60_000;

interface Windows {
  /** `bucket\0key` -> requests in the current window. A Map: keys are client input. */
  counts: Map<string, number>;
  startedAt: number;
}

/**
 * Counts one request of `key` (a client address) in `bucket` (an endpoint) and says whether
 * it is within `perMinute`. Forgets every count when a new minute starts.
 */
export function takeRateToken(bucket: string, key: string, perMinute: number): boolean {
  const windows = singleton<Windows>("rate-limit", () => ({ counts: new Map(), startedAt: 0 }));
  const now = Date.now();
  if (now - windows.startedAt >= WINDOW_MS) {
    windows.counts.clear();
    windows.startedAt = now;
  }
  const id = `${bucket}\0${key}`;
  const count = (windows.counts.get(id) ?? 0) + 1;
  windows.counts.set(id, count);
  return count <= perMinute;
}

/** Seconds until the current window ends: the `Retry-After` of a refused request. */
export function secondsUntilNextWindow(): number {
  const windows = singleton<Windows>("rate-limit", () => ({ counts: new Map(), startedAt: 0 }));
  return Math.max(1, Math.ceil((windows.startedAt + WINDOW_MS - Date.now()) / 1000));
}

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

/**
 * Counts a request of this client in `bucket`; 0 per minute means no limit.
 * @throws HttpError 429 with Retry-After past `perMinute`.
 */
export function limitRate(headers: Headers, bucket: string, perMinute: number): void {
  if (perMinute === 0 || takeRateToken(bucket, clientAddress(headers), perMinute)) return;
  throw new HttpError(429, "rate_limited", `more than ${perMinute} requests a minute: slow down`, {
    "Retry-After": String(secondsUntilNextWindow()),
  });
}
