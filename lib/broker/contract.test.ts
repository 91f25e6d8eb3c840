import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { RedisBroker } from "@/lib/broker/redis";
import { BrokerUnavailableError } from "@/lib/broker/types";
import { isStreamId } from "@/lib/sse/ids";
import {
  BROKERS,
  collect,
  event,
  freshChannel,
  HISTORY,
  historyOf,
  NO_HISTORY,
  type TestBroker,
  withoutId,
} from "@/tests/support/broker-contract";
import { getFreePort } from "@/tests/support/ports";

describe.each(BROKERS)("broker contract: %s", (_name, makeBroker) => {
  describe.each([
    ["with history", HISTORY],
    ["without history", NO_HISTORY],
  ])("%s", (_mode, history) => {
    let broker: TestBroker;
    beforeAll(() => {
      broker = makeBroker(history)();
    });
    afterAll(() => broker.close());

    it("delivers a published event and counts the receiving process", async () => {
      const channel = freshChannel();
      const sink = collect();
      await broker.subscribe(channel, sink.listener);
      const result = await broker.publish(channel, { body: "event: a\ndata: é\n" });
      expect(result.receivers).toBe(1);
      expect(result.duplicate).toBe(false);
      const [got] = await sink.waitFor(1);
      expect(withoutId(got.frame)).toBe("event: a\ndata: é\n\n");
      expect(got.channel).toBe(channel);
      if (broker.history) {
        expect(isStreamId(result.id ?? "")).toBe(true);
        expect(got.id).toBe(result.id);
        expect(got.frame).toBe(`event: a\ndata: é\nid: ${result.id}\n\n`);
      } else {
        expect(got.id).toBeUndefined();
        expect(got.frame).toBe("event: a\ndata: é\n\n");
      }
      broker.unsubscribe(channel, sink.listener);
    });

    it("answers 0 receivers for a channel nobody listens to", async () => {
      expect((await broker.publish(freshChannel(), event("x"))).receivers).toBe(0);
    });

    it("keeps channels apart and fans out to every listener in order", async () => {
      const [a, b] = [freshChannel(), freshChannel()];
      const [a1, a2, b1] = [collect(), collect(), collect()];
      await Promise.all([
        broker.subscribe(a, a1.listener),
        broker.subscribe(a, a2.listener),
        broker.subscribe(b, b1.listener),
      ]);
      for (let i = 0; i < 50; i++) await broker.publish(a, event(String(i)));
      await broker.publish(b, event("b"));
      const expected = Array.from({ length: 50 }, (_, i) => `data: ${i}\n\n`);
      await a1.waitFor(50);
      await a2.waitFor(50);
      await b1.waitFor(1);
      expect(a1.frames()).toEqual(expected);
      expect(a2.frames()).toEqual(expected);
      expect(b1.frames()).toEqual(["data: b\n\n"]);
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
      await broker.publish(channel, event("1"));
      await stays.waitFor(1);
      expect(gone.received).toEqual([]);
      expect(broker.listenerCount(channel)).toBe(1);
      broker.unsubscribe(channel, stays.listener);
    });

    it("sends a notice live, without an id, and never keeps it", async () => {
      // Internal channels (members events) use names no client may choose.
      const channel = `members/${freshChannel()}`;
      const sink = collect();
      await broker.subscribe(channel, sink.listener);
      const notice = await broker.publish(channel, {
        body: "event: members\ndata: {}\n",
        id: "ignored",
        transient: true,
      });
      expect(notice).toEqual({ id: undefined, receivers: 1, duplicate: false });
      const [got] = await sink.waitFor(1);
      expect(got).toEqual({ frame: "event: members\ndata: {}\n\n", id: undefined, channel });
      if (broker.history) {
        expect((await historyOf(broker).readSince(channel, "0-0")).entries).toEqual([]);
        expect((await historyOf(broker).readLatest(channel, 10)).entries).toEqual([]);
      }
      broker.unsubscribe(channel, sink.listener);
    });

    it("answers ping", async () => {
      expect(await broker.ping()).toBe(true);
    });

    // Only without history: with it, the id is an idempotency key (tested under history).
    const withoutHistoryIt = history === NO_HISTORY ? it : () => {};
    withoutHistoryIt("sends the publisher's id as the event id", async () => {
      const channel = freshChannel();
      const sink = collect();
      await broker.subscribe(channel, sink.listener);
      const first = await broker.publish(channel, event("x", "order-7"));
      const second = await broker.publish(channel, event("y", "order-7"));
      expect(first).toEqual({ id: "order-7", receivers: 1, duplicate: false });
      expect(second.duplicate).toBe(false);
      await sink.waitFor(2);
      expect(sink.received.map((r) => r.frame)).toEqual([
        "data: x\nid: order-7\n\n",
        "data: y\nid: order-7\n\n",
      ]);
      expect(broker.history).toBeUndefined();
      broker.unsubscribe(channel, sink.listener);
    });
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

  /** Subscribers of a next-sse channel's pub/sub channel, `sse:{NAME}`. */
  const numsub = async (channel: string) =>
    Number(((await admin.pubsub("NUMSUB", `sse:{${channel}}`)) as [string, number])[1]);

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
    await broker.publish(channel, event("again"));
    await second.waitFor(1);
    expect(second.frames()).toEqual(["data: again\n\n"]);
    broker.unsubscribe(channel, second.listener);
  });

  it("encodes envelopes and takes whole frames that other services PUBLISH in its namespace", async () => {
    const channel = freshChannel();
    const sink = collect();
    await broker.subscribe(channel, sink.listener);
    const ours = `sse:{${channel}}`;
    await admin.publish(ours, '{"data": {"message": "Hello!"}, "type": "greeting"}');
    await admin.publish(ours, "{broken");
    await admin.publish(ours, "data: no blank line");
    await admin.publish(ours, '{"data": 1, "type": "reset"}');
    await admin.publish(ours, "data: after\n\n");
    await sink.waitFor(2);
    expect(sink.received).toEqual([
      { frame: 'event: greeting\ndata: {"message":"Hello!"}\n\n', id: undefined, channel },
      { frame: "data: after\n\n", id: undefined, channel },
    ]);
    broker.unsubscribe(channel, sink.listener);
  });

  it("keeps out of other apps' channels: the bare name only with flaskSse, and its own prefix", async () => {
    const channel = freshChannel();
    const [plain, flask, other] = [
      broker,
      new RedisBroker({ url: inject("redisUrl"), timeoutMs: 2000, flaskSse: true }),
      new RedisBroker({ url: inject("redisUrl"), timeoutMs: 2000, prefix: "otherapp:" }),
    ];
    const sinks = [collect(), collect(), collect()];
    await Promise.all([plain, flask, other].map((b, i) => b.subscribe(channel, sinks[i].listener)));
    // What Flask-SSE (or another app) publishes on the bare name.
    await admin.publish(channel, '{"data": "bare"}');
    await plain.publish(channel, event("ours"));
    await other.publish(channel, event("theirs"));
    await Promise.all([sinks[0].waitFor(1), sinks[1].waitFor(2), sinks[2].waitFor(1)]);
    expect(sinks[0].frames()).toEqual(["data: ours\n\n"]);
    expect(sinks[1].frames()).toEqual(["data: bare\n\n", "data: ours\n\n"]);
    expect(sinks[2].frames()).toEqual(["data: theirs\n\n"]);
    expect(await admin.exists(`otherapp:history:{${channel}}`)).toBe(1);
    for (const [i, b] of [plain, flask, other].entries()) b.unsubscribe(channel, sinks[i].listener);
    await Promise.all([flask.close(), other.close()]);
  });

  it("keeps a channel's history in one stream key with its hash tag", async () => {
    const channel = freshChannel();
    await broker.publish(channel, event("x"));
    expect(await admin.type(`sse:history:{${channel}}`)).toBe("stream");
    expect(await admin.ttl(`sse:history:{${channel}}`)).toBeGreaterThan(3500);
  });

  it("calls back when the subscriber connection comes back, subscriptions restored", async () => {
    const channel = freshChannel();
    const sink = collect();
    await broker.subscribe(channel, sink.listener);
    // A listener that comes while subscriptions are lost (a stream opening) is told at once.
    const late: string[] = [];
    let toldAtOnce: boolean | undefined;
    const offs: Array<() => void> = [];
    const recovered = new Promise<void>((resolve) =>
      offs.push(
        broker.onRecover((phase) => {
          if (phase === "lost" && toldAtOnce === undefined) {
            offs.push(broker.onRecover((latePhase) => late.push(latePhase)));
            toldAtOnce = late[0] === "lost";
          }
          if (phase === "restored") resolve();
        }),
      ),
    );
    const list = (await admin.client("LIST")) as string;
    const id = /id=(\d+) [^\n]*name=next-sse:subscriber/.exec(list)?.[1];
    expect(id).toBeDefined();
    await admin.client("KILL", "ID", id as string);
    await recovered;
    expect(toldAtOnce).toBe(true);
    expect(late.at(-1)).toBe("restored");
    for (const off of offs) off();
    expect(await numsub(channel)).toBe(1);
    await broker.publish(channel, event("after reconnect"));
    await sink.waitFor(1);
    expect(sink.frames()).toEqual(["data: after reconnect\n\n"]);
    broker.unsubscribe(channel, sink.listener);
  });

  it("reads history once per channel for streams that start at its newest id, until the subscriber drops", async () => {
    const channel = freshChannel();
    const key = `sse:history:{${channel}}`;
    const sink = collect();
    await broker.subscribe(channel, sink.listener);
    const { id } = await broker.publish(channel, event("x"));
    await sink.waitFor(1);
    // MONITOR shows every command any client sends; only those on this channel's key count.
    const monitor = await admin.monitor();
    const reads: string[][] = [];
    monitor.on("monitor", (_time: string, args: string[]) => {
      // EVAL the first time on a connection, EVALSHA after; the read script's keys are the
      // history stream and its deleted-ids set (the publish script's second is another).
      const read = args[3] === key && args[4] === `sse:deleted:{${channel}}`;
      if (/^eval(sha)?$/i.test(args[0]) && read) reads.push(args);
    });
    const fresh = { gap: false, lastId: id, entries: [] };
    for (let i = 0; i < 5; i++) {
      expect(await historyOf(broker).readSince(channel, undefined)).toEqual(fresh);
      expect(await historyOf(broker).readSince(channel, id)).toEqual(fresh);
    }
    expect((await historyOf(broker).readSince(channel, "0-0")).entries.map((e) => e.id)).toEqual([
      id,
    ]);
    await expect.poll(() => reads.length).toBe(1);

    // Events published while the subscriber is away are not seen live: the cached newest
    // id is dropped, and a stream at it reads them from history.
    const recovered = new Promise<void>((resolve) =>
      broker.onRecover((phase) => phase === "restored" && resolve()),
    );
    const list = (await admin.client("LIST")) as string;
    const subscriberId = /id=(\d+) [^\n]*name=next-sse:subscriber/.exec(list)?.[1];
    await admin.client("KILL", "ID", subscriberId as string);
    const missed = await broker.publish(channel, event("missed"));
    await recovered;
    const replay = await historyOf(broker).readSince(channel, id);
    expect(replay.entries.map((e) => e.id)).toEqual([missed.id]);
    await expect.poll(() => reads.length).toBe(2);
    monitor.disconnect();
    broker.unsubscribe(channel, sink.listener);
  });

  it("fails publish and subscribe fast when Redis is down, instead of hanging", async () => {
    const port = await getFreePort();
    const down = new RedisBroker({ url: `redis://127.0.0.1:${port}`, timeoutMs: 500 });
    const started = Date.now();
    await expect(down.publish("sse", event("x"))).rejects.toBeInstanceOf(BrokerUnavailableError);
    await expect(historyOf(down).readSince("sse", undefined)).rejects.toBeInstanceOf(
      BrokerUnavailableError,
    );
    const sink = collect();
    await expect(down.subscribe("sse", sink.listener)).rejects.toBeInstanceOf(
      BrokerUnavailableError,
    );
    down.unsubscribe("sse", sink.listener);
    expect(Date.now() - started).toBeLessThan(4000);
    expect(await down.ping()).toBe(false);
    await down.close();
  });
});

describe("redis cluster specifics", () => {
  it("spreads channels over the shards and subscribes with SSUBSCRIBE", async () => {
    const nodes = inject("clusterNodes").map((node) => new Redis(`redis://${node}`));
    const broker = new RedisBroker({ clusterNodes: inject("clusterNodes"), timeoutMs: 3000 });
    const channels = Array.from({ length: 12 }, () => freshChannel());
    const sinks = channels.map(() => collect());
    await Promise.all(channels.map((c, i) => broker.subscribe(c, sinks[i].listener)));
    for (const channel of channels) await broker.publish(channel, event(channel));
    await Promise.all(sinks.map((s) => s.waitFor(1)));
    // Each channel's history sits on the node that owns its slot, and the nodes share them.
    const owners = await Promise.all(
      channels.map(async (channel) => {
        const counts = await Promise.all(
          nodes.map((n) => n.exists(`sse:history:{${channel}}`).catch(() => 0)),
        );
        return counts.indexOf(1);
      }),
    );
    expect(owners.every((o) => o >= 0)).toBe(true);
    expect(new Set(owners).size).toBeGreaterThan(1);
    const shardSubs = await Promise.all(
      channels.map(async (channel, i) => {
        const reply = (await nodes[owners[i]].call(
          "PUBSUB",
          "SHARDNUMSUB",
          `sse:{${channel}}`,
        )) as [string, number];
        return Number(reply[1]);
      }),
    );
    expect(shardSubs).toEqual(channels.map(() => 1));
    for (const [i, c] of channels.entries()) broker.unsubscribe(c, sinks[i].listener);
    await broker.close();
    for (const n of nodes) n.disconnect();
  });
});
