import { describe, expect, it } from "vitest";
import { BACKOFF_CAP_MS, backoffDelay, cleanEndDelay, parseRetryAfter } from "@/lib/client/backoff";

// Deterministic: the random source is a sequence we choose.
const fixed = (value: number) => () => value;

describe("backoffDelay", () => {
  it("grows exponentially from about a second and stops at the cap", () => {
    const max = fixed(0.999_999);
    expect([0, 1, 2, 3, 4, 5, 6].map((attempt) => backoffDelay(attempt, max))).toEqual([
      999, 1999, 3999, 7999, 15_999, 29_999, 29_999,
    ]);
    expect(backoffDelay(1000, max)).toBeLessThan(BACKOFF_CAP_MS);
  });

  it("is full jitter: anywhere from 0 to the ceiling", () => {
    expect(backoffDelay(3, fixed(0))).toBe(0);
    expect(backoffDelay(3, fixed(0.5))).toBe(4000);
  });

  it("waits at least Retry-After, spread by up to a second", () => {
    expect(backoffDelay(0, fixed(0), 5000)).toBe(5000);
    expect(backoffDelay(0, fixed(0.5), 5000)).toBe(5500);
    // Retry-After is the server's word, above the cap too.
    expect(backoffDelay(9, fixed(0), 60_000)).toBe(60_000);
  });
});

describe("cleanEndDelay", () => {
  it("is below a second", () => {
    expect(cleanEndDelay(fixed(0))).toBe(0);
    expect(cleanEndDelay(fixed(0.999))).toBe(999);
  });
});

describe("parseRetryAfter", () => {
  const now = Date.parse("2026-12-01T10:00:00Z");
  it("reads seconds and HTTP dates, and ignores what it cannot read", () => {
    expect(parseRetryAfter("5", now)).toBe(5000);
    expect(parseRetryAfter("Tue, 01 Dec 2026 10:00:30 GMT", now)).toBe(30_000);
    expect(parseRetryAfter("Tue, 01 Dec 2026 09:00:00 GMT", now)).toBe(0);
    expect(parseRetryAfter(null, now)).toBeUndefined();
    expect(parseRetryAfter("soon", now)).toBeUndefined();
    expect(parseRetryAfter("86400", now)).toBe(300_000);
  });
});
