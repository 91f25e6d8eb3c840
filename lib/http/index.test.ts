import { describe, expect, it } from "vitest";
import { retryAfter } from "@/lib/http";

describe("retryAfter", () => {
  it("spreads clients refused together over up to twice the delay", () => {
    expect(retryAfter(5, () => 0)).toBe("5");
    expect(retryAfter(5, () => 0.999)).toBe("10");
    const values = new Set(Array.from({ length: 200 }, () => retryAfter(1)));
    expect([...values].sort()).toEqual(["1", "2"]);
  });
});
