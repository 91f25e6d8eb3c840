import "server-only";
import { clientAddress } from "@/lib/access/client-address";
import { HttpError } from "@/lib/http";
import { singleton } from "@/lib/ops/singleton";

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
 * Counts a request of this client in `bucket`; 0 per minute means no limit.
 * @throws HttpError 429 with Retry-After past `perMinute`.
 */
export function limitRate(headers: Headers, bucket: string, perMinute: number): void {
  if (perMinute === 0 || takeRateToken(bucket, clientAddress(headers), perMinute)) return;
  throw new HttpError(429, "rate_limited", `more than ${perMinute} requests a minute: slow down`, {
    "Retry-After": String(secondsUntilNextWindow()),
  });
}
