/**
 * When a stream client tries again. Failures back off exponentially with full jitter (a
 * random delay from 0 to the capped exponential), so a crowd of browsers that lost the same
 * server does not return in step; a clean end (a deploy, the stream's lifetime) comes back
 * within a second, also spread. Pure: the random source is passed in.
 */

/** The first failure retries within about this (ms). */
export const BACKOFF_BASE_MS = 1000;
/** No failure waits longer than this (ms), unless the server's Retry-After says so. */
export const BACKOFF_CAP_MS = 30_000;
/** A clean end (`: reconnect`) reconnects after a random delay below this (ms). */
export const CLEAN_END_SPREAD_MS = 1000;

/**
 * The delay before retry number `attempt` (0 for the first retry after a failure): full
 * jitter over `min(cap, base * 2^attempt)`. A `Retry-After` (ms) is a floor, with up to a
 * second of jitter above it so a server's waiting crowd does not return in one instant.
 */
export function backoffDelay(attempt: number, random: () => number, retryAfterMs?: number): number {
  const ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** Math.min(attempt, 30));
  const jittered = Math.floor(random() * ceiling);
  if (retryAfterMs === undefined) return jittered;
  return retryAfterMs + Math.floor(random() * CLEAN_END_SPREAD_MS);
}

/** The delay after a clean end: random, below a second. */
export function cleanEndDelay(random: () => number): number {
  return Math.floor(random() * CLEAN_END_SPREAD_MS);
}

/**
 * A `Retry-After` header in ms: delay-seconds, or an HTTP date. Undefined when absent or
 * unreadable; capped at 5 minutes, so a wrong header cannot park a page for a day.
 */
export function parseRetryAfter(value: string | null, now: number): number | undefined {
  if (value === null || value.trim() === "") return undefined;
  const trimmed = value.trim();
  const ms = /^\d+$/.test(trimmed) ? Number(trimmed) * 1000 : Date.parse(trimmed) - now;
  if (!Number.isFinite(ms)) return undefined;
  return Math.min(Math.max(0, ms), 300_000);
}
