import { afterAll, describe, expect, inject, it } from "vitest";
import { RedisBroker } from "@/lib/broker/redis";
import { MemoryPresenceStore } from "@/lib/features/presence/memory";
import { RedisPresenceStore } from "@/lib/features/presence/redis";
import type { PresenceStore } from "@/lib/features/presence/types";

let seq = 0;
const freshChannel = () => `presence-${process.pid}-${Date.now()}-${++seq}`;
const counts = (entries: Array<[string, number]>) => new Map(entries);
const brokers: RedisBroker[] = [];

/** A Redis presence store on the command connection of a broker of its own. */
function redisStore(options: ConstructorParameters<typeof RedisBroker>[0]): PresenceStore {
  const broker = new RedisBroker(options);
  brokers.push(broker);
  return new RedisPresenceStore(() => broker.commandClient(), broker.names, 2000);
}

const stores: Array<[string, () => PresenceStore]> = [
  ["memory", () => new MemoryPresenceStore()],
  ["redis", () => redisStore({ url: inject("redisUrl"), timeoutMs: 2000 })],
  ["redis cluster", () => redisStore({ clusterNodes: inject("clusterNodes"), timeoutMs: 3000 })],
];

afterAll(() => Promise.all(brokers.map((broker) => broker.close())));

describe.each(stores)("presence store contract: %s", (_name, makeStore) => {
  it("sums every instance's count for a channel, and nothing for an unknown one", async () => {
    const store = makeStore();
    const [a, b] = [freshChannel(), freshChannel()];
    await store.report("one", counts([[a, 2]]), 10_000);
    await store.report(
      "two",
      counts([
        [a, 3],
        [b, 1],
      ]),
      10_000,
    );
    expect(await store.count(a)).toBe(5);
    expect(await store.count(b)).toBe(1);
    expect(await store.count(freshChannel())).toBe(0);
  });

  it("replaces an instance's count, and a count of 0 removes it", async () => {
    const store = makeStore();
    const channel = freshChannel();
    await store.report("one", counts([[channel, 4]]), 10_000);
    await store.report("one", counts([[channel, 1]]), 10_000);
    expect(await store.count(channel)).toBe(1);
    await store.report("one", counts([[channel, 0]]), 10_000);
    expect(await store.count(channel)).toBe(0);
  });

  it("forgets an instance that stops reporting once its entries expire", async () => {
    const store = makeStore();
    const channel = freshChannel();
    await store.report("crashed", counts([[channel, 7]]), 150);
    await store.report("alive", counts([[channel, 1]]), 10_000);
    expect(await store.count(channel)).toBe(8);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await store.count(channel)).toBe(1);
  });

  it("keeps channel names that are Object.prototype members apart", async () => {
    const store = makeStore();
    for (const name of ["constructor", "__proto__", "toString"]) {
      await store.report("one", counts([[name, 2]]), 10_000);
      expect(await store.count(name)).toBe(2);
      await store.report("one", counts([[name, 0]]), 10_000);
    }
  });

  describe("members", () => {
    const users = (entries: Array<[string, Record<string, unknown>?]>) =>
      new Map(entries.map(([sub, info]) => [sub, info]));
    const sorted = <T extends { action: string; sub: string }>(changes: T[]) =>
      [...changes].sort((a, b) => `${a.action}${a.sub}`.localeCompare(`${b.action}${b.sub}`));

    it("says who joins and leaves across instances: a user held anywhere joins once and leaves last", async () => {
      const store = makeStore();
      const channel = freshChannel();
      const ann = { name: "Ann" };
      expect(await store.reportMembers("one", channel, users([["ann", ann]]), 10_000)).toEqual([
        { action: "join", sub: "ann", info: ann },
      ]);
      // Ann's second tab, on another instance, and Bob (no info): only Bob joins.
      expect(
        await store.reportMembers("two", channel, users([["ann", ann], ["bob"]]), 10_000),
      ).toEqual([{ action: "join", sub: "bob" }]);
      expect(await store.listMembers(channel)).toEqual([{ sub: "ann", info: ann }, { sub: "bob" }]);
      // A refresh changes nothing.
      expect(await store.reportMembers("one", channel, users([["ann", ann]]), 10_000)).toEqual([]);
      // Ann closes her first tab: instance two still holds her.
      expect(await store.reportMembers("one", channel, users([]), 10_000)).toEqual([]);
      expect(sorted(await store.reportMembers("two", channel, users([]), 10_000))).toEqual([
        { action: "leave", sub: "ann", info: ann },
        { action: "leave", sub: "bob" },
      ]);
      expect(await store.listMembers(channel)).toEqual([]);
      expect(await store.listMembers(freshChannel())).toEqual([]);
    });

    it("lets the members of an instance that stopped reporting leave, told to the next reporter", async () => {
      const store = makeStore();
      const channel = freshChannel();
      await store.reportMembers("crashed", channel, users([["ann"], ["bob"]]), 150);
      await store.reportMembers("alive", channel, users([["bob"]]), 10_000);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(await store.listMembers(channel)).toEqual([{ sub: "bob" }]);
      expect(await store.reportMembers("alive", channel, users([["bob"]]), 10_000)).toEqual([
        { action: "leave", sub: "ann" },
      ]);
    });

    it("keeps subs and channels that are Object.prototype members apart", async () => {
      const store = makeStore();
      for (const name of ["constructor", "__proto__"]) {
        const changes = await store.reportMembers(
          "one",
          name,
          users([[name], ["toString"]]),
          10_000,
        );
        expect(sorted(changes)).toEqual([
          { action: "join", sub: name },
          { action: "join", sub: "toString" },
        ]);
        expect((await store.listMembers(name)).map((m) => m.sub).sort()).toEqual(
          [name, "toString"].sort(),
        );
        await store.reportMembers("one", name, users([]), 10_000);
      }
    });
  });
});
