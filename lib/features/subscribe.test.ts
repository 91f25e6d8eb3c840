import { Redis } from "ioredis";
import { describe, expect, inject, it } from "vitest";
import { MemoryBroker } from "@/lib/broker/memory";
import { RedisBroker } from "@/lib/broker/redis";
import { type ServerEvent, subscribe } from "@/lib/features/subscribe";

const body = (data: string) => ({ body: `data: ${data}\n` });

describe("subscribe (server code following channels)", () => {
  it("replays after a position, then goes live, each once; break releases the channel", async () => {
    const broker = new MemoryBroker();
    const first = await broker.publish("jobs", body("1"));
    await broker.publish("jobs", body("2"));
    const iterator = subscribe(["jobs"], { broker, after: first.id })[Symbol.asyncIterator]();
    const replayed = (await iterator.next()).value;
    // Subscribed by now (the replay came after the subscription): publish live.
    await broker.publish("jobs", body('{"n":3}'));
    const live = (await iterator.next()).value;
    await iterator.return?.(undefined);
    expect([replayed, live].map((e) => [e?.channel, e?.type, e?.data])).toEqual([
      ["jobs", "message", 2],
      ["jobs", "message", { n: 3 }],
    ]);
    expect(broker.listenerCount("jobs")).toBe(0);
  });

  it("rewinds, names each event's channel, and ends when the signal aborts", async () => {
    const broker = new MemoryBroker();
    for (const n of ["a1", "a2", "a3"]) await broker.publish("a", body(n));
    const abort = new AbortController();
    const seen: ServerEvent[] = [];
    const done = (async () => {
      for await (const event of subscribe(["a", "b"], {
        broker,
        rewind: 2,
        signal: abort.signal,
      })) {
        seen.push(event);
        if (seen.length === 2) void broker.publish("b", body("b1"));
        if (seen.length === 3) abort.abort();
      }
    })();
    await done;
    expect(seen.map((e) => [e.channel, e.data])).toEqual([
      ["a", "a2"],
      ["a", "a3"],
      ["b", "b1"],
    ]);
    expect(broker.listenerCount()).toBe(0);
  });

  it("catches a consumer that fell behind up from history: nothing lost, nothing twice", async () => {
    const broker = new MemoryBroker();
    await broker.publish("fast", body("0"));
    // From the channel's beginning: no race with the subscription being set up.
    const events = subscribe(["fast"], { broker, maxBufferedBytes: 1024, after: "0-0" });
    const iterator = events[Symbol.asyncIterator]();
    expect((await iterator.next()).value?.data).toBe(0);
    // While the consumer sleeps, 5 kB arrive: over its bound, so it is dropped and resumes.
    for (let i = 1; i <= 50; i++) await broker.publish("fast", body(`${i}|${"x".repeat(100)}`));
    const rest: unknown[] = [];
    while (rest.length < 50) {
      const { value } = await iterator.next();
      rest.push(String(value?.data).split("|")[0]);
    }
    expect(rest).toEqual(Array.from({ length: 50 }, (_, i) => String(i + 1)));
    await iterator.return?.(undefined);
  });

  it("follows channels on Redis Cluster (sharded pub/sub), replay then live", async () => {
    const broker = new RedisBroker({ clusterNodes: inject("clusterNodes"), timeoutMs: 3000 });
    const channels = Array.from({ length: 4 }, (_, i) => `cluster-sub-${process.pid}-${i}`);
    for (const channel of channels) await broker.publish(channel, body(`${channel} old`));
    const iterator = subscribe(channels, { broker, rewind: 1 })[Symbol.asyncIterator]();
    const rewound = [];
    for (let i = 0; i < 4; i++) rewound.push((await iterator.next()).value?.data);
    expect(rewound.sort()).toEqual(channels.map((c) => `${c} old`).sort());
    await broker.publish(channels[2], body("live"));
    expect((await iterator.next()).value).toMatchObject({ channel: channels[2], data: "live" });
    await iterator.return?.(undefined);
    await broker.close();
  });

  it("follows a channel through a lost Redis subscription without losing events", async () => {
    const admin = new Redis(inject("redisUrl"));
    const broker = new RedisBroker({ url: inject("redisUrl"), timeoutMs: 2000 });
    const publisher = new RedisBroker({ url: inject("redisUrl"), timeoutMs: 2000 });
    const channel = `worker-${process.pid}-${Date.now()}`;
    await publisher.publish(channel, body("before"));
    const iterator = subscribe([channel], { broker, after: "0-0" })[Symbol.asyncIterator]();
    expect((await iterator.next()).value?.data).toBe("before");
    const recovered = new Promise<void>((resolve) =>
      broker.onRecover((phase) => phase === "restored" && resolve()),
    );
    const list = (await admin.client("LIST")) as string;
    const id = /id=(\d+) [^\n]*name=next-sse:subscriber/.exec(list)?.[1] as string;
    await admin.client("KILL", "ID", id);
    for (const n of ["gap 1", "gap 2"]) await publisher.publish(channel, body(n));
    await recovered;
    await publisher.publish(channel, body("after"));
    const rest = [];
    for (let i = 0; i < 3; i++) rest.push((await iterator.next()).value?.data);
    expect(rest).toEqual(["gap 1", "gap 2", "after"]);
    await iterator.return?.(undefined);
    await Promise.all([broker.close(), publisher.close()]);
    admin.disconnect();
  });

  it("types its events from the channels' declarations (lib/channels.ts)", async () => {
    const broker = new MemoryBroker();
    const abort = new AbortController();
    const events = subscribe(["orders"], { broker, signal: abort.signal });
    const next = events.next();
    await broker.publish("orders", { body: 'event: order\ndata: {"item":"tea","qty":2}\n' });
    const { value } = await next;
    if (value?.type !== "order") throw new Error(`expected an order, got ${value?.type}`);
    const qty: number = value.data.qty;
    expect(qty).toBe(2);
    // @ts-expect-error orders declares no type ordr
    const typo: ServerEvent<"orders"> = { id: "1-0", channel: "orders", type: "ordr", data: {} };
    expect(typo.channel).toBe("orders");
    abort.abort();
    await events.return(undefined);
  });
});
