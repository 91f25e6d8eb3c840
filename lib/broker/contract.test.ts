import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { MemoryBroker } from "@/lib/broker/memory";
import { RedisBroker } from "@/lib/broker/redis";
import {
  type Broker,
  BrokerUnavailableError,
  type FrameListener,
  type HistoryOptions,
  type HistoryPageQuery,
} from "@/lib/broker/types";
import { compareStreamIds, isStreamId } from "@/lib/sse/ids";
import { getFreePort } from "@/tests/support/ports";

const decoder = new TextDecoder();
const event = (data: string, id?: string) => ({ body: `data: ${data}\n`, id });
let channelSeq = 0;
const freshChannel = () => `contract-${process.pid}-${Date.now()}-${++channelSeq}`;
/** A frame without its `id:` line, to compare bodies whatever the broker's ids are. */
const withoutId = (frame: string) => frame.replace(/^id: .*\n/m, "");

interface Received {
  frame: string;
  id: string | undefined;
  channel: string;
}

/** A listener that records events and lets a test await the n-th one. */
function collect() {
  const received: Received[] = [];
  const waiters: Array<{ n: number; resolve: () => void }> = [];
  const listener: FrameListener = (bytes, id, channel) => {
    received.push({ frame: decoder.decode(bytes), id, channel });
    for (const waiter of waiters.filter((w) => received.length >= w.n)) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve();
    }
  };
  const waitFor = async (n: number) => {
    if (received.length < n) await new Promise<void>((resolve) => waiters.push({ n, resolve }));
    return received;
  };
  const frames = () => received.map((r) => withoutId(r.frame));
  return { received, frames, listener, waitFor };
}

const HISTORY: HistoryOptions = { maxLength: 1000, ttlSeconds: 3600 };
const NO_HISTORY: HistoryOptions = { maxLength: 0, ttlSeconds: 3600 };
const redisBroker = (history: HistoryOptions) => () =>
  new RedisBroker({ url: inject("redisUrl"), timeoutMs: 2000, history });

const clusterBroker = (history: HistoryOptions) => () =>
  new RedisBroker({ clusterNodes: inject("clusterNodes"), timeoutMs: 3000, history });

const brokers: Array<[string, (history: HistoryOptions) => () => Broker]> = [
  ["memory", (history) => () => new MemoryBroker(history)],
  ["redis", redisBroker],
  ["redis cluster (sharded pub/sub)", clusterBroker],
];

describe.each(brokers)("broker contract: %s", (_name, makeBroker) => {
  describe.each([
    ["with history", HISTORY],
    ["without history", NO_HISTORY],
  ])("%s", (_mode, history) => {
    let broker: Broker;
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
      await broker.notify(channel, "event: members\ndata: {}\n");
      const [got] = await sink.waitFor(1);
      expect(got).toEqual({ frame: "event: members\ndata: {}\n\n", id: undefined, channel });
      if (broker.history) {
        expect((await broker.readSince(channel, "0-0")).entries).toEqual([]);
        expect((await broker.readLatest(channel, 10)).entries).toEqual([]);
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
      expect(await broker.readSince(channel, undefined)).toMatchObject({ entries: [] });
      broker.unsubscribe(channel, sink.listener);
    });
  });

  describe("history", () => {
    let broker: Broker;
    let small: Broker;
    beforeAll(() => {
      broker = makeBroker(HISTORY)();
      small = makeBroker({ maxLength: 3, ttlSeconds: 3600 })();
    });
    afterAll(async () => {
      await broker.close();
      await small.close();
    });

    const publishAll = async (target: Broker, channel: string, n: number) => {
      const ids: string[] = [];
      for (let i = 1; i <= n; i++) {
        const result = await target.publish(channel, event(String(i)));
        ids.push(result.id as string);
      }
      return ids;
    };

    it("gives increasing ids and replays what came after a position, in order", async () => {
      const channel = freshChannel();
      const ids = await publishAll(broker, channel, 5);
      for (let i = 1; i < ids.length; i++) expect(compareStreamIds(ids[i - 1], ids[i])).toBe(-1);
      const replay = await broker.readSince(channel, ids[1]);
      expect(replay.gap).toBe(false);
      expect(replay.lastId).toBe(ids[4]);
      expect(replay.entries.map((e) => e.id)).toEqual(ids.slice(2));
      expect(replay.entries.map((e) => decoder.decode(e.frame))).toEqual(
        [3, 4, 5].map((n, i) => `data: ${n}\nid: ${ids[i + 2]}\n\n`),
      );
      expect((await broker.readSince(channel, ids[4])).entries).toEqual([]);
    });

    it("reads a channel's newest events, oldest first, for a rewind", async () => {
      const channel = freshChannel();
      expect(await broker.readLatest(channel, 5)).toEqual({
        gap: false,
        lastId: "0-0",
        entries: [],
      });
      const ids = await publishAll(broker, channel, 5);
      const latest = await broker.readLatest(channel, 3);
      expect(latest.entries.map((e) => e.id)).toEqual(ids.slice(2));
      expect(latest).toMatchObject({ gap: false, lastId: ids[4] });
      expect((await broker.readLatest(channel, 10)).entries.map((e) => e.id)).toEqual(ids);
      expect(decoder.decode(latest.entries[0].frame)).toBe(`data: 3\nid: ${ids[2]}\n\n`);
    });

    it("reads pages of history between ids, either way round, for the history API", async () => {
      const channel = freshChannel();
      const ids = await publishAll(broker, channel, 5);
      const page = (query: Omit<HistoryPageQuery, "limit">, limit = 10) =>
        broker.readPage(channel, { limit, ...query }).then((entries) => entries.map((e) => e.id));
      expect(await page({ newestFirst: true }, 2)).toEqual([ids[4], ids[3]]);
      expect(await page({ newestFirst: false }, 2)).toEqual([ids[0], ids[1]]);
      expect(await page({ newestFirst: true, before: ids[3], after: ids[0] })).toEqual([
        ids[2],
        ids[1],
      ]);
      expect(await page({ newestFirst: false, after: ids[3] })).toEqual([ids[4]]);
      expect(await broker.readPage(freshChannel(), { limit: 5, newestFirst: true })).toEqual([]);
    });

    it("keeps a channel's newest events past the TTL (keepLast), while it is not idle", async () => {
      const keeping = makeBroker({
        maxLength: 100,
        ttlSeconds: 1,
        keepLast: 2,
        idleTtlSeconds: 60,
      })();
      const channel = freshChannel();
      const ids = await publishAll(keeping, channel, 4);
      // Past the TTL: a time-based rule, so time has to pass.
      await new Promise((resolve) => setTimeout(resolve, 1100));
      const newest = await keeping.publish(channel, event("new"));
      const kept = await keeping.readLatest(channel, 10);
      expect(kept.entries.map((e) => e.id)).toEqual([ids[3], newest.id]);
      // A position among the trimmed ones is a gap, said as such.
      expect((await keeping.readSince(channel, ids[0])).gap).toBe(true);
      await keeping.close();
    });

    it("deletes an event for moderation: every read skips it, positions stay valid", async () => {
      const channel = freshChannel();
      const ids = await publishAll(broker, channel, 5);
      expect(await broker.deleteEvent(channel, ids[1])).toBe(true);
      expect(await broker.deleteEvent(channel, "1-0")).toBe(false);
      const all = await broker.readSince(channel, "0-0");
      expect(all.entries.map((e) => e.id)).toEqual([ids[0], ids[2], ids[3], ids[4]]);
      // A page of only deleted events still moves on: `through` and `more` say where.
      const page = await broker.readSince(channel, ids[0], 1);
      expect(page).toMatchObject({ gap: false, entries: [], through: ids[1], more: true });
      // Resuming from the deleted event itself is no gap.
      const after = await broker.readSince(channel, ids[1]);
      expect(after.gap).toBe(false);
      expect(after.entries.map((e) => e.id)).toEqual(ids.slice(2));
      expect((await broker.readLatest(channel, 4)).entries.map((e) => e.id)).toEqual([
        ids[0],
        ids[2],
        ids[3],
        ids[4],
      ]);
      const listed = await broker.readPage(channel, { limit: 10, newestFirst: false });
      expect(listed.map((e) => e.id)).not.toContain(ids[1]);
    });

    it("reads history in pages", async () => {
      const channel = freshChannel();
      const ids = await publishAll(broker, channel, 5);
      const first = await broker.readSince(channel, "0-0", 2);
      expect(first.entries.map((e) => e.id)).toEqual(ids.slice(0, 2));
      expect(first).toMatchObject({ gap: false, lastId: ids[4] });
      const second = await broker.readSince(channel, ids[1], 2);
      expect(second.entries.map((e) => e.id)).toEqual(ids.slice(2, 4));
      const last = await broker.readSince(channel, ids[3], 2);
      expect(last.entries.map((e) => e.id)).toEqual([ids[4]]);
    });

    it("starts a position-less stream at the newest id", async () => {
      const channel = freshChannel();
      expect(await broker.readSince(channel, undefined)).toEqual({
        gap: false,
        lastId: "0-0",
        entries: [],
      });
      const ids = await publishAll(broker, channel, 2);
      expect(await broker.readSince(channel, undefined)).toEqual({
        gap: false,
        lastId: ids[1],
        entries: [],
      });
      const fromOrigin = await broker.readSince(channel, "0-0");
      expect(fromOrigin.entries.map((e) => e.id)).toEqual(ids);
    });

    it("reports a gap for trimmed, unknown and future positions", async () => {
      const channel = freshChannel();
      const ids = await publishAll(small, channel, 5);
      expect(await small.readSince(channel, ids[0])).toMatchObject({ gap: true, lastId: ids[4] });
      const fromNewestTrimmed = await small.readSince(channel, ids[1]);
      expect(fromNewestTrimmed.gap).toBe(false);
      expect(fromNewestTrimmed.entries.map((e) => e.id)).toEqual(ids.slice(2));
      expect((await small.readSince(channel, "9999999999999-0")).gap).toBe(true);
      expect((await small.readSince(freshChannel(), ids[0])).gap).toBe(true);
      expect((await small.readSince(freshChannel(), "0-0")).gap).toBe(false);
    });

    it("delivers a publisher id once: the second publish is a duplicate", async () => {
      const channel = freshChannel();
      const sink = collect();
      await broker.subscribe(channel, sink.listener);
      const first = await broker.publish(channel, event("x", "order-7"));
      const again = await broker.publish(channel, event("x", "order-7"));
      const other = await broker.publish(channel, event("y", "order-8"));
      expect(first.duplicate).toBe(false);
      expect(again).toEqual({ id: first.id, receivers: 0, duplicate: true });
      await sink.waitFor(2);
      expect(sink.frames()).toEqual(["data: x\n\n", "data: y\n\n"]);
      expect(sink.received.map((r) => r.id)).toEqual([first.id, other.id]);
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
      expect(await broker.readSince(channel, undefined)).toEqual(fresh);
      expect(await broker.readSince(channel, id)).toEqual(fresh);
    }
    expect((await broker.readSince(channel, "0-0")).entries.map((e) => e.id)).toEqual([id]);
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
    const replay = await broker.readSince(channel, id);
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
    await expect(down.readSince("sse", undefined)).rejects.toBeInstanceOf(BrokerUnavailableError);
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
