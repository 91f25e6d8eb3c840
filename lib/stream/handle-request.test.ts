import { Redis } from "ioredis";
import { describe, expect, inject, it, vi } from "vitest";
import { MemoryBroker } from "@/lib/broker/memory";
import { RedisBroker } from "@/lib/broker/redis";
import type {
  Broker,
  FrameListener,
  OutgoingEvent,
  PublishResult,
  RecoveryPhase,
} from "@/lib/broker/types";
import type { ChannelHistory } from "@/lib/history/types";
import { streamCounters } from "@/lib/ops/counters";
import { handleStreamRequest } from "@/lib/stream/handle-request";
import { recheckAccess } from "@/lib/stream/reauthorize";
import { countOpenStreams, localPresence } from "@/lib/stream/registry";
import { toWebResponse } from "@/lib/transport/sinks";
import { historyOf } from "@/tests/support/broker-contract";
import { openEventStream } from "@/tests/support/open-stream";
import { getFreePort } from "@/tests/support/ports";
import { textReader } from "@/tests/support/read-stream";
import { parseEventStream } from "@/tests/support/sse-client";

const HELLO = ": connected\nretry: 3000\n\n";

const NO_HISTORY = { maxLength: 0, ttlSeconds: 0 };
const body = (data: string) => ({ body: `data: ${data}\n` });

function streamOptions(
  broker: Broker,
  signal: AbortSignal,
  extra: { heartbeatMs?: number; maxBacklogBytes?: number; maxStreamSeconds?: number } = {},
) {
  return {
    broker,
    signal,
    retryMs: 3000,
    heartbeatMs: extra.heartbeatMs ?? 0,
    maxBacklogBytes: extra.maxBacklogBytes ?? 1 << 20,
    maxStreamSeconds: extra.maxStreamSeconds ?? 0,
    maxConnections: 1000,
  };
}

function setup(
  extra: { heartbeatMs?: number; maxBacklogBytes?: number; maxStreamSeconds?: number } = {},
) {
  const broker = new MemoryBroker(NO_HISTORY);
  const abort = new AbortController();
  const open = (channels = ["sse"]) =>
    openEventStream({ ...streamOptions(broker, abort.signal, extra), channels });
  return { broker, abort, open };
}

describe("handleStreamRequest (web sink)", () => {
  it("asks nothing again of a public stream (only what a rule or a session granted)", async () => {
    const { abort, open } = setup();
    await open([`public-${Date.now()}`]);
    expect(await recheckAccess()).toEqual({ calls: 0, ended: 0 });
    abort.abort();
  });

  it("writes the comment and retry first, then the events of its channels", async () => {
    const { broker, open } = setup();
    const { next, reader } = textReader(await open(["a", "b"]));
    expect(await next()).toBe(HELLO);
    await broker.publish("a", body("1"));
    expect(await next()).toBe("data: 1\nid: a/\n\n");
    await broker.publish("c", body("other"));
    await broker.publish("b", body("2"));
    expect(await next()).toBe("data: 2\nid: b/\n\n");
    await reader.cancel();
  });

  it("joins the frames of one turn into one chunk", async () => {
    const { broker, open } = setup();
    const { next, reader } = textReader(await open());
    expect(await next()).toBe(HELLO);
    for (const n of [1, 2, 3]) void broker.publish("sse", body(String(n)));
    expect(await next()).toBe("data: 1\n\ndata: 2\n\ndata: 3\n\n");
    await reader.cancel();
  });

  it("cleans up once on abort, on cancel, and on both", async () => {
    const { broker, abort, open } = setup();
    const before = countOpenStreams();
    const byAbort = await open();
    const byCancel = await open();
    expect(broker.listenerCount("sse")).toBe(2);
    expect(countOpenStreams()).toBe(before + 2);
    await byCancel.cancel();
    expect(broker.listenerCount("sse")).toBe(1);
    abort.abort();
    expect(broker.listenerCount("sse")).toBe(0);
    await byAbort.cancel();
    expect(countOpenStreams()).toBe(before);
    const { value, done } = await byAbort.getReader().read();
    expect({ value, done }).toEqual({ value: undefined, done: true });
  });

  it("leaves nothing behind when the client leaves while the stream is being opened", async () => {
    const { broker, abort, open } = setup();
    const before = countOpenStreams();
    const presenceBefore = localPresence().get("sse") ?? 0;
    const opening = open();
    abort.abort();
    const stream = await opening;
    expect((await stream.getReader().read()).done).toBe(true);
    expect(broker.listenerCount()).toBe(0);
    expect(countOpenStreams()).toBe(before);
    expect(localPresence().get("sse") ?? 0).toBe(presenceBefore);
  });

  it("does not subscribe for a request that is already aborted", async () => {
    const { broker, abort, open } = setup();
    abort.abort();
    const stream = await open();
    expect(broker.listenerCount()).toBe(0);
    expect((await stream.getReader().read()).done).toBe(true);
  });

  it("announces its heartbeat interval and sends a keep-alive comment to an idle stream", async () => {
    const { open } = setup({ heartbeatMs: 300 });
    const { next, reader } = textReader(await open());
    expect(await next()).toBe(": connected\n: heartbeat-ms=300\nretry: 3000\n\n");
    expect(await next()).toBe(": \n\n");
    await reader.cancel();
  });

  it("ends a stream at its maximum lifetime with a reconnect hint, after what was queued", async () => {
    const { broker, open } = setup({ maxStreamSeconds: 1 });
    const s = parseEventStream(await open());
    await broker.publish("sse", body("last"));
    await s.ended;
    expect(s.raw()).toMatch(new RegExp(`^${HELLO}data: last\n\n: reconnect\nretry: \\d+\n\n$`));
    expect(broker.listenerCount()).toBe(0);
  });

  it("drops a client whose backlog passes the bound, without affecting others", async () => {
    const { broker, open } = setup({ maxBacklogBytes: 4096 });
    const stalled = await open();
    const reading = textReader(await open());
    expect(await reading.next()).toBe(HELLO);
    const payload = "x".repeat(1000);
    let received = "";
    for (let i = 0; i < 20; i++) {
      await broker.publish("sse", body(payload));
      received += await reading.next();
    }
    expect(received).toBe(`data: ${payload}\n\n`.repeat(20));
    expect(broker.listenerCount("sse")).toBe(1);
    await expect(stalled.getReader().read()).rejects.toThrow(/slow consumer/);
    await reading.reader.cancel();
  });

  it("answers 503 broker_unavailable, leaving no listener, when Redis is down", async () => {
    const broker = new RedisBroker({
      url: `redis://127.0.0.1:${await getFreePort()}`,
      timeoutMs: 300,
    });
    const before = countOpenStreams();
    await expect(
      openEventStream({
        ...streamOptions(broker, new AbortController().signal),
        channels: ["sse"],
      }),
    ).rejects.toMatchObject({ status: 503, body: { error: { code: "broker_unavailable" } } });
    expect(broker.listenerCount()).toBe(0);
    expect(countOpenStreams()).toBe(before);
    await broker.close();
  });
});

describe("resume with history (memory broker)", () => {
  const broker = new MemoryBroker({ maxLength: 5, ttlSeconds: 3600 });
  let seq = 0;
  const channel = () => `resume-${++seq}`;

  async function connect(channels: string[], lastEventId?: string) {
    const abort = new AbortController();
    const stream = await openEventStream({
      ...streamOptions(broker, abort.signal),
      channels,
      lastEventId,
    });
    return Object.assign(parseEventStream(stream), { close: () => abort.abort() });
  }

  it("tells a new stream its position, so an early reconnect misses nothing", async () => {
    const ch = channel();
    const first = await broker.publish(ch, body("before"));
    const s = await connect([ch]);
    await expect.poll(() => s.lastEventId).toBe(first.id);
    s.close();
    await broker.publish(ch, body("while away"));
    const again = await connect([ch], s.lastEventId);
    const [event] = await again.waitForEvents(1);
    expect(event.data).toBe("while away");
    again.close();
  });

  it("replays every missed event once, in order, then goes live", async () => {
    const ch = channel();
    const s = await connect([ch]);
    await broker.publish(ch, body("1"));
    await s.waitForEvents(1);
    s.close();
    for (const n of ["2", "3", "4"]) await broker.publish(ch, body(n));
    const resumed = await connect([ch], s.lastEventId);
    await broker.publish(ch, body("5"));
    const events = await resumed.waitForEvents(4);
    expect(events.map((e) => e.data)).toEqual(["2", "3", "4", "5"]);
    resumed.close();
  });

  it("rewinds channels without a position and resumes the others", async () => {
    const [a, b] = [channel(), channel()];
    for (let i = 0; i < 4; i++) await broker.publish(a, body(`a${i}`));
    const onA = await connect([a]);
    await broker.publish(a, body("a4"));
    await onA.waitForEvents(1);
    onA.close();
    for (let i = 0; i < 4; i++) await broker.publish(b, body(`b${i}`));
    await broker.publish(a, body("a5"));
    // `a` has a position (resumes: a5 only), `b` has none (rewinds 2: b2, b3).
    const abort = new AbortController();
    const url = new URL("http://localhost/stream?rewind=2");
    for (const name of [a, b]) url.searchParams.append("channel", name);
    const response = toWebResponse(
      await handleStreamRequest(
        new Request(url, { headers: { "Last-Event-ID": `${a}/${a}=${onA.lastEventId}` } }),
        abort.signal,
        { ...streamOptions(broker, abort.signal) },
      ),
    );
    const s = parseEventStream(response.body as ReadableStream<Uint8Array>);
    const events = await s.waitForEvents(3);
    expect(events.map((e) => e.data).sort()).toEqual(["a5", "b2", "b3"]);
    abort.abort();
  });

  it("refuses a rewind that is not a whole number up to SSE_MAX_REWIND, with 400", async () => {
    for (const rewind of ["101", "-1", "abc", "1.5"]) {
      const response = await handleStreamRequest(
        new Request(`http://localhost/stream?rewind=${rewind}`),
        new AbortController().signal,
        { broker },
      );
      expect(response).toBeInstanceOf(Response);
      expect((response as Response).status).toBe(400);
      expect(
        ((await (response as Response).json()) as { error: { code: string } }).error.code,
      ).toBe("invalid_rewind");
    }
  });

  it("sends reset when history no longer holds the position", async () => {
    const ch = channel();
    const s = await connect([ch]);
    await broker.publish(ch, body("seen"));
    await s.waitForEvents(1);
    s.close();
    for (let i = 0; i < 6; i++) await broker.publish(ch, body(`missed ${i}`));
    const resumed = await connect([ch], s.lastEventId);
    await broker.publish(ch, body("live"));
    const events = await resumed.waitForEvents(2);
    expect(events[0]).toMatchObject({ event: "reset", data: JSON.stringify({ channels: [ch] }) });
    expect(events[1].data).toBe("live");
    resumed.close();
  });

  it("sends reset for a Last-Event-ID that is not ours", async () => {
    const ch = channel();
    const s = await connect([ch], "not-an-id");
    const [event] = await s.waitForEvents(1);
    expect(event.event).toBe("reset");
    s.close();
  });

  it("resumes several channels from one id that names each position", async () => {
    const [a, b] = [channel(), channel()];
    const s = await connect([a, b]);
    await broker.publish(a, body("a1"));
    await broker.publish(b, body("b1"));
    const events = await s.waitForEvents(2);
    expect(events.map((e) => [e.data, (e.id ?? "").split("/")[0]])).toEqual([
      ["a1", a],
      ["b1", b],
    ]);
    s.close();
    await broker.publish(b, body("b2"));
    await broker.publish(a, body("a2"));
    await broker.publish(b, body("b3"));
    const resumed = await connect([a, b], s.lastEventId);
    const replayed = await resumed.waitForEvents(3);
    const perChannel = (name: string) =>
      replayed.filter((e) => (e.id ?? "").startsWith(`${name}/`)).map((e) => e.data);
    expect(perChannel(a)).toEqual(["a2"]);
    expect(perChannel(b)).toEqual(["b2", "b3"]);
    resumed.close();
  });
});

describe("broker faults (real Redis)", () => {
  it("keeps streams open and catches up what was published while the subscriber was down", async () => {
    const admin = new Redis(inject("redisUrl"));
    const broker = new RedisBroker({ url: inject("redisUrl"), timeoutMs: 2000 });
    const publisher = new RedisBroker({ url: inject("redisUrl"), timeoutMs: 2000 });
    const channel = `fault-${process.pid}`;
    const abort = new AbortController();
    const s = parseEventStream(
      await openEventStream({ ...streamOptions(broker, abort.signal), channels: [channel] }),
    );
    await publisher.publish(channel, body("before"));
    await s.waitForEvents(1);

    const recovered = new Promise<void>((resolve) =>
      broker.onRecover((phase) => phase === "restored" && resolve()),
    );
    const list = (await admin.client("LIST")) as string;
    const id = /id=(\d+) [^\n]*name=next-sse:subscriber/.exec(list)?.[1] as string;
    await admin.client("KILL", "ID", id);
    // Published while this process has no subscription: only history has them.
    for (const n of ["gap 1", "gap 2", "gap 3"]) await publisher.publish(channel, body(n));
    await recovered;
    await publisher.publish(channel, body("after"));
    const events = await s.waitForEvents(5);
    expect(events.map((e) => e.data)).toEqual(["before", "gap 1", "gap 2", "gap 3", "after"]);
    abort.abort();
    await Promise.all([broker.close(), publisher.close()]);
    admin.disconnect();
  });
});

/**
 * The in-memory broker with the one fault it cannot have on its own: its subscription drops
 * (events still reach history, not listeners) and comes back, as the Redis broker's does.
 * History reads can be held, to stand still at the moment a recovery lands.
 */
class DroppingBroker implements Broker {
  readonly kind = "memory";
  readonly history: ChannelHistory;
  down = false;
  reads = 0;
  held: Promise<void> = Promise.resolve();
  private readonly inner = new MemoryBroker();
  private readonly recoverCallbacks = new Set<(phase: RecoveryPhase) => void>();
  private readonly wrapped = new Map<FrameListener, FrameListener>();

  constructor() {
    const kept = historyOf(this.inner);
    this.history = {
      readSince: async (channel, position) => {
        this.reads++;
        const replay = await kept.readSince(channel, position);
        await this.held;
        return replay;
      },
      readLatest: (channel, count) => kept.readLatest(channel, count),
      readPage: (channel, page) => kept.readPage(channel, page),
      deleteEvent: (channel, id) => kept.deleteEvent(channel, id),
      // Every stream reads history here, so reads can be counted and held.
      newestKnown: () => undefined,
    };
  }

  publish(channel: string, event: OutgoingEvent): Promise<PublishResult> {
    return this.inner.publish(channel, event);
  }

  subscribe(channel: string, listener: FrameListener): Promise<void> | undefined {
    const wrapper: FrameListener = (frame, id, ch) => {
      if (!this.down) listener(frame, id, ch);
    };
    this.wrapped.set(listener, wrapper);
    return this.inner.subscribe(channel, wrapper);
  }

  unsubscribe(channel: string, listener: FrameListener): void {
    this.inner.unsubscribe(channel, this.wrapped.get(listener) ?? listener);
  }

  onRecover(callback: (phase: RecoveryPhase) => void): () => void {
    this.recoverCallbacks.add(callback);
    return () => this.recoverCallbacks.delete(callback);
  }

  ping(): Promise<boolean> {
    return this.inner.ping();
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  /** The subscription may be missing events (as the Redis broker says before it re-subscribes). */
  lose(): void {
    for (const callback of this.recoverCallbacks) callback("lost");
  }

  recover(): void {
    this.down = false;
    for (const callback of this.recoverCallbacks) callback("restored");
  }
}

describe("broker faults during a catch-up", () => {
  it("catches up again when the broker recovers while a stream's first replay is being read", async () => {
    const broker = new DroppingBroker();
    const abort = new AbortController();
    const open = (lastEventId?: string) =>
      openEventStream({ ...streamOptions(broker, abort.signal), channels: ["c"], lastEventId });
    const first = parseEventStream(await open());
    await broker.publish("c", body("1"));
    await first.waitForEvents(1);

    broker.down = true;
    let release = () => {};
    broker.held = new Promise((resolve) => {
      release = resolve;
    });
    // A reconnect whose replay is read before "2" is published, and answered after the
    // broker is back: "2" is in neither that replay nor the live feed.
    const readsBefore = broker.reads;
    const opening = open(first.lastEventId);
    await vi.waitFor(() => expect(broker.reads).toBe(readsBefore + 1));
    await broker.publish("c", body("2"));
    broker.recover();
    release();
    const second = parseEventStream(await opening);
    expect((await second.waitForEvents(1, 2000)).map((e) => e.data)).toEqual(["2"]);
    expect((await first.waitForEvents(2, 2000)).map((e) => e.data)).toEqual(["1", "2"]);
    abort.abort();
  });
});

describe("a live event that beats the recovery", () => {
  it("does not move the stream past events the broken subscription missed", async () => {
    const broker = new DroppingBroker();
    const abort = new AbortController();
    const stream = parseEventStream(
      await openEventStream({ ...streamOptions(broker, abort.signal), channels: ["c"] }),
    );
    await broker.publish("c", body("1"));
    await stream.waitForEvents(1);
    // The subscription breaks: "2" reaches history, not the stream.
    broker.lose();
    broker.down = true;
    await broker.publish("c", body("2"));
    // Subscribed again; "3" arrives live before the broker says "restored".
    broker.down = false;
    await broker.publish("c", body("3"));
    broker.recover();
    expect((await stream.waitForEvents(3, 2000)).map((e) => e.data)).toEqual(["1", "2", "3"]);
    abort.abort();
  });
});

describe("paged replay (memory broker)", () => {
  const KB = "x".repeat(10 * 1024);
  let seq = 0;
  const channel = () => `paged-${++seq}`;

  async function publishMany(broker: MemoryBroker, ch: string, n: number): Promise<string[]> {
    const ids: string[] = [];
    for (let i = 0; i < n; i++) {
      ids.push((await broker.publish(ch, body(`${i}|${KB}`))).id as string);
    }
    return ids;
  }

  it("resumes a backlog far over the backlog bound completely, never dropped as slow", async () => {
    const broker = new MemoryBroker({ maxLength: 1000, ttlSeconds: 3600 });
    const ch = channel();
    const ids = await publishMany(broker, ch, 400); // about 4 MB, the bound is 64 kB
    const drops = streamCounters().slowConsumerDrops;
    const abort = new AbortController();
    const s = parseEventStream(
      await openEventStream({
        ...streamOptions(broker, abort.signal, { maxBacklogBytes: 64 * 1024 }),
        channels: [ch],
        lastEventId: ids[0],
      }),
    );
    await broker.publish(ch, body("live"));
    const events = await s.waitForEvents(400, 10_000);
    expect(events.slice(0, 399).map((e) => Number(e.data.split("|")[0]))).toEqual(
      Array.from({ length: 399 }, (_, i) => i + 1),
    );
    expect(events[399].data).toBe("live");
    expect(streamCounters().slowConsumerDrops).toBe(drops);
    abort.abort();
  });

  it("resumes across a whole page of events moderation deleted", async () => {
    const broker = new MemoryBroker({ maxLength: 1000, ttlSeconds: 3600 });
    const ch = channel();
    const ids = await publishMany(broker, ch, 250);
    for (const id of ids.slice(100, 200)) await historyOf(broker).deleteEvent(ch, id);
    const abort = new AbortController();
    const s = parseEventStream(
      await openEventStream({
        ...streamOptions(broker, abort.signal),
        channels: [ch],
        lastEventId: ids[0],
      }),
    );
    await broker.publish(ch, body("live"));
    const events = await s.waitForEvents(150, 10_000);
    const expected = [
      ...Array.from({ length: 99 }, (_, i) => String(i + 1)),
      ...Array.from({ length: 50 }, (_, i) => String(i + 200)),
      "live",
    ];
    expect(events.map((e) => e.data.split("|")[0])).toEqual(expected);
    abort.abort();
  });

  it("sends reset instead of a replay over SSE_MAX_REPLAY_BYTES, then goes on live", async () => {
    const broker = new MemoryBroker({ maxLength: 1000, ttlSeconds: 3600 });
    const ch = channel();
    const ids = await publishMany(broker, ch, 300);
    const abort = new AbortController();
    const s = parseEventStream(
      await openEventStream({
        ...streamOptions(broker, abort.signal),
        maxReplayBytes: 500 * 1024,
        channels: [ch],
        lastEventId: ids[0],
      }),
    );
    // Pages are bounded in bytes (half the backlog bound), so the reset comes after a few.
    await vi.waitFor(() => expect(s.events.some((e) => e.event === "reset")).toBe(true), {
      timeout: 10_000,
    });
    const before = s.events.length;
    await broker.publish(ch, body("live"));
    const events = await s.waitForEvents(before + 1, 10_000);
    const reset = events.findIndex((e) => e.event === "reset");
    expect(reset).toBeGreaterThan(0);
    expect(JSON.parse(events[reset].data)).toEqual({ channels: [ch] });
    expect(events.at(-1)?.data).toBe("live");
    // Before the reset, what was replayed came in order, once.
    const replayed = events.slice(0, reset).map((e) => Number(e.data.split("|")[0]));
    expect(replayed).toEqual(Array.from({ length: replayed.length }, (_, i) => i + 1));
    abort.abort();
  });

  it("delivers events published during a paged replay once, in order", async () => {
    const broker = new MemoryBroker({ maxLength: 1000, ttlSeconds: 3600 });
    const ch = channel();
    const ids = await publishMany(broker, ch, 250);
    const abort = new AbortController();
    const s = parseEventStream(
      await openEventStream({
        ...streamOptions(broker, abort.signal, { maxBacklogBytes: 32 * 1024 }),
        channels: [ch],
        lastEventId: ids[0],
      }),
    );
    // Published while the replay is paging, enough to overflow the live buffer (32 kB).
    for (let i = 250; i < 300; i++) await broker.publish(ch, body(`${i}|${KB}`));
    const events = await s.waitForEvents(299, 10_000);
    expect(events.map((e) => Number(e.data.split("|")[0]))).toEqual(
      Array.from({ length: 299 }, (_, i) => i + 1),
    );
    abort.abort();
  });
});
