import { describe, expect, it } from "vitest";
import { retryAfter } from "@/lib/http";

describe("retryAfter", () => {
  it("spreads clients refused together over up to half the delay again", () => {
    expect(retryAfter(5, () => 0)).toBe("5");
    expect(retryAfter(5, () => 0.999)).toBe("7");
    const values = new Set(Array.from({ length: 200 }, () => retryAfter(5)));
    expect([...values].sort()).toEqual(["5", "6", "7"]);
    // A second is a second: nothing shorter to spread over.
    expect(retryAfter(1, () => 0.999)).toBe("1");
  });
});
