import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { MemoryBroker } from "@/lib/server/broker/memory";
import { RedisBroker } from "@/lib/server/broker/redis";
import { type Broker, BrokerUnavailableError, type FrameListener } from "@/lib/server/broker/types";
import { getFreePort } from "@/tests/support/ports";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const frame = (text: string) => encoder.encode(text);
let channelSeq = 0;
const freshChannel = () => `contract-${process.pid}-${++channelSeq}`;

/** A listener that records frames and lets a test await the n-th one. */
function collect() {
  const frames: string[] = [];
  const waiters: Array<{ n: number; resolve: () => void }> = [];
  const listener: FrameListener = (bytes) => {
    frames.push(decoder.decode(bytes));
    for (const waiter of waiters.filter((w) => frames.length >= w.n)) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve();
    }
  };
  const waitFor = async (n: number) => {
    if (frames.length < n) await new Promise<void>((resolve) => waiters.push({ n, resolve }));
    return frames;
  };
  return { frames, listener, waitFor };
}

const brokers: Array<[string, () => Broker]> = [
  ["memory", () => new MemoryBroker()],
  ["redis", () => new RedisBroker({ url: inject("redisUrl"), timeoutMs: 2000 })],
];

describe.each(brokers)("broker contract: %s", (_name, makeBroker) => {
  let broker: Broker;
  beforeAll(() => {
    broker = makeBroker();
  });
  afterAll(() => broker.close());

  it("delivers a published frame byte for byte and counts the receiving process", async () => {
    const channel = freshChannel();
    const sink = collect();
    await broker.subscribe(channel, sink.listener);
    expect(await broker.publish(channel, frame("event: a\ndata: é\n\n"))).toBe(1);
    expect(await sink.waitFor(1)).toEqual(["event: a\ndata: é\n\n"]);
    broker.unsubscribe(channel, sink.listener);
  });

  it("answers 0 receivers for a channel nobody listens to", async () => {
    expect(await broker.publish(freshChannel(), frame("data: x\n\n"))).toBe(0);
  });

  it("keeps channels apart and fans out to every listener in order", async () => {
    const [a, b] = [freshChannel(), freshChannel()];
    const [a1, a2, b1] = [collect(), collect(), collect()];
    await Promise.all([
      broker.subscribe(a, a1.listener),
      broker.subscribe(a, a2.listener),
      broker.subscribe(b, b1.listener),
    ]);
    for (let i = 0; i < 50; i++) await broker.publish(a, frame(`data: ${i}\n\n`));
    await broker.publish(b, frame("data: b\n\n"));
    const expected = Array.from({ length: 50 }, (_, i) => `data: ${i}\n\n`);
    expect(await a1.waitFor(50)).toEqual(expected);
    expect(await a2.waitFor(50)).toEqual(expected);
    expect(await b1.waitFor(1)).toEqual(["data: b\n\n"]);
    expect(broker.listenerCount(a)).toBe(2);
    for (const [channel, sink] of [
      [a, a1],
      [a, a2],
      [b, b1],
    ] as const) {
      broker.unsubscribe(channel, sink.listener);
    }
    expect(broker.listenerCount(a)).toBe(0);
    expect(broker.listenerCount(b)).toBe(0);
  });

  it("stops delivering after unsubscribe, and unsubscribe is idempotent", async () => {
    const channel = freshChannel();
    const gone = collect();
    const stays = collect();
    await broker.subscribe(channel, gone.listener);
    await broker.subscribe(channel, stays.listener);
    broker.unsubscribe(channel, gone.listener);
    broker.unsubscribe(channel, gone.listener);
    await broker.publish(channel, frame("data: 1\n\n"));
    await stays.waitFor(1);
    expect(gone.frames).toEqual([]);
    expect(broker.listenerCount(channel)).toBe(1);
    broker.unsubscribe(channel, stays.listener);
  });

  it("answers ping", async () => {
    expect(await broker.ping()).toBe(true);
  });
});

describe("redis broker specifics", () => {
  let admin: Redis;
  let broker: RedisBroker;
  beforeAll(() => {
    admin = new Redis(inject("redisUrl"));
    broker = new RedisBroker({ url: inject("redisUrl"), timeoutMs: 2000 });
  });
  afterAll(async () => {
    await broker.close();
    admin.disconnect();
  });

  const numsub = async (channel: string) =>
    Number(((await admin.pubsub("NUMSUB", channel)) as [string, number])[1]);

  it("subscribes on the first listener and unsubscribes on the last, over one connection", async () => {
    const channel = freshChannel();
    const sinks = Array.from({ length: 20 }, () => collect());
    await Promise.all(sinks.map((s) => broker.subscribe(channel, s.listener)));
    expect(await numsub(channel)).toBe(1);
    const clients = (await admin.client("LIST")) as string;
    expect(clients.match(/name=next-sse:subscriber/g)?.length).toBe(1);
    for (const s of sinks.slice(1)) broker.unsubscribe(channel, s.listener);
    expect(await numsub(channel)).toBe(1);
    broker.unsubscribe(channel, sinks[0].listener);
    await expect.poll(() => numsub(channel)).toBe(0);
  });

  it("re-subscribes a channel whose last listener left and a new one came", async () => {
    const channel = freshChannel();
    const first = collect();
    await broker.subscribe(channel, first.listener);
    broker.unsubscribe(channel, first.listener);
    const second = collect();
    await broker.subscribe(channel, second.listener);
    await broker.publish(channel, frame("data: again\n\n"));
    expect(await second.waitFor(1)).toEqual(["data: again\n\n"]);
    broker.unsubscribe(channel, second.listener);
  });

  it("encodes Flask-SSE envelopes that other services PUBLISH", async () => {
    const channel = freshChannel();
    const sink = collect();
    await broker.subscribe(channel, sink.listener);
    await admin.publish(channel, '{"data": {"message": "Hello!"}, "type": "greeting"}');
    await admin.publish(channel, "{broken");
    await admin.publish(channel, "data: after\n\n");
    expect(await sink.waitFor(2)).toEqual([
      'event: greeting\ndata: {"message":"Hello!"}\n\n',
      "data: after\n\n",
    ]);
    broker.unsubscribe(channel, sink.listener);
  });

  it("fails publish and subscribe fast when Redis is down, instead of hanging", async () => {
    const port = await getFreePort();
    const down = new RedisBroker({ url: `redis://127.0.0.1:${port}`, timeoutMs: 500 });
    const started = Date.now();
    await expect(down.publish("sse", frame("data: x\n\n"))).rejects.toBeInstanceOf(
      BrokerUnavailableError,
    );
    const sink = collect();
    await expect(down.subscribe("sse", sink.listener)).rejects.toBeInstanceOf(
      BrokerUnavailableError,
    );
    down.unsubscribe("sse", sink.listener);
    expect(Date.now() - started).toBeLessThan(3000);
    expect(await down.ping()).toBe(false);
    await down.close();
  });
});
