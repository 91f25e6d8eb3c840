import { Redis } from "ioredis";
import { afterAll, describe, expect, inject, it } from "vitest";
import { MemoryRevocationStore } from "@/lib/access/revocation/memory";
import { RedisRevocationStore } from "@/lib/access/revocation/redis";
import type { RevocationStore } from "@/lib/access/revocation/types";

// One suite, both stores: what an instance records, every instance reads.
const clients: Redis[] = [];
afterAll(() => {
  for (const client of clients) client.disconnect();
});

const stores: Array<[string, () => RevocationStore]> = [
  ["memory", () => new MemoryRevocationStore()],
  [
    "redis",
    () => {
      const client = new Redis(inject("redisUrl"));
      clients.push(client);
      return new RedisRevocationStore(() => client, `revocation-test-${Math.random()}:`);
    },
  ],
];

describe.each(stores)("revocation store (%s)", (_name, create) => {
  it("records a user's revocation time and a token id, and nothing else", async () => {
    const store = create();
    await store.revoke({ sub: "user-1", at: 1000 }, 60);
    await store.revoke({ jti: "token-9", at: 2000 }, 60);
    expect(await store.lookup({ sub: "user-1" })).toEqual({ subRevokedAt: 1000, jti: false });
    expect(await store.lookup({ sub: "user-2", jti: "token-9" })).toEqual({
      subRevokedAt: undefined,
      jti: true,
    });
    // A user id is text, not an object key.
    expect(await store.lookup({ sub: "__proto__", jti: "constructor" })).toEqual({
      subRevokedAt: undefined,
      jti: false,
    });
  });

  it("hands every instance the revocations made after its cursor, in order", async () => {
    const store = create();
    await store.revoke({ sub: "before", at: 1 }, 60);
    const { cursor, revocations } = await store.since(undefined);
    expect(revocations).toEqual([]);
    await store.revoke({ sub: "a", at: 2 }, 60);
    await store.revoke({ jti: "b", at: 3 }, 60);
    const next = await store.since(cursor);
    expect(next.revocations).toEqual([
      { sub: "a", at: 2 },
      { jti: "b", at: 3 },
    ]);
    expect((await store.since(next.cursor)).revocations).toEqual([]);
  });

  it("forgets a revocation when the longest token it refuses has expired", async () => {
    const store = create();
    await store.revoke({ sub: "short", at: 5 }, 1);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect(await store.lookup({ sub: "short" })).toEqual({ subRevokedAt: undefined, jti: false });
  });
});
