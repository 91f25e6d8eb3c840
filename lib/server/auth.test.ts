import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { grantCovers, mintChannelToken, TokenError, verifyChannelToken } from "@/lib/server/auth";

describe("channel tokens", () => {
  beforeAll(() => {
    process.env.SSE_SECRET = "unit-test-secret-0123456789abcdef0123";
  });
  afterEach(() => vi.useRealTimers());

  it("round-trips the channels it grants, prefixes only when asked for", () => {
    const grant = verifyChannelToken(
      mintChannelToken(["private-a"], { ttlSeconds: 60, prefixes: ["private-team-"] }),
    );
    expect(grant.channels).toEqual(["private-a", "private-team-*"]);
    expect(grantCovers(grant, "private-a")).toBe(true);
    expect(grantCovers(grant, "private-team-7")).toBe(true);
    expect(grantCovers(grant, "private-b")).toBe(false);
  });

  it("never turns a name into a prefix grant: a name ending in * is refused", () => {
    // e.g. mintChannelToken([`private-user-${userInput}`]) with userInput "*"
    expect(() => mintChannelToken(["private-user-*"], 60)).toThrow(/invalid channel/);
    expect(() => mintChannelToken(["a b"])).toThrow(/invalid channel/);
    expect(() => mintChannelToken([], { prefixes: ["bad prefix"] })).toThrow(/invalid channel/);
  });

  it("rejects forged, truncated and garbage tokens as invalid", () => {
    const token = mintChannelToken(["private-a"], 60);
    const [payload, signature] = token.split(".");
    const forged = `${Buffer.from(JSON.stringify({ channels: ["private-*"], exp: 9e9 })).toString("base64url")}.${signature}`;
    for (const bad of [forged, payload, `${payload}.`, "", "x.y", `${payload}.${signature}x`]) {
      expect(() => verifyChannelToken(bad)).toThrow(TokenError);
      try {
        verifyChannelToken(bad);
      } catch (error) {
        expect((error as TokenError).reason).toBe("invalid");
      }
    }
  });

  it("rejects an expired token as expired", () => {
    const token = mintChannelToken(["private-a"], 60);
    vi.useFakeTimers({ now: Date.now() + 61_000 });
    expect(() => verifyChannelToken(token)).toThrow(/expired/);
  });
});
