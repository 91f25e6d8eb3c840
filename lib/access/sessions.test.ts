import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { mintSession, readSession } from "@/lib/access/sessions";
import { mintChannelToken } from "@/lib/access/tokens";
import { resetSingletons } from "@/lib/ops/singleton";

beforeEach(() => {
  process.env.SSE_SECRET = "a-test-secret-of-at-least-32-characters!";
  resetSingletons();
});
afterEach(() => {
  delete process.env.SSE_SECRET;
  resetSingletons();
});

describe("readSession", () => {
  it("reads a session it minted, and no channel token that merely carries a sub", async () => {
    expect(await readSession(mintSession("alice"))).toEqual({ sub: "alice" });
    const visitor = mintChannelToken(["private-demo"], { subject: "visitor-3fa1" });
    expect(await readSession(visitor)).toBeUndefined();
    // A session marker for another user is not this one's session either.
    const forged = mintChannelToken(["session.bob"], { subject: "alice" });
    expect(await readSession(forged)).toBeUndefined();
    expect(await readSession("not-a-token")).toBeUndefined();
    expect(await readSession(undefined)).toBeUndefined();
  });
});
