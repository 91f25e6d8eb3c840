import { afterAll, describe, expect, it } from "vitest";
import { MemoryBroker } from "@/lib/broker/memory";
import { resetSingletons } from "@/lib/ops/singleton";
import { handleStreamRequest } from "@/lib/stream/handle-request";
import { countOpenStreams, drainStreams, isDraining } from "@/lib/stream/registry";
import { toWebResponse } from "@/lib/transport/sinks";
import { parseEventStream } from "@/tests/support/sse-client";

describe("draining (graceful shutdown)", () => {
  afterAll(() => resetSingletons("stream-registry"));

  it("ends open streams with a jittered reconnect hint, resolves when they are gone, then refuses new ones with 503", async () => {
    const broker = new MemoryBroker({ maxLength: 0, ttlSeconds: 0 });
    const signal = new AbortController().signal;
    const open = async () =>
      toWebResponse(
        await handleStreamRequest(new Request("http://localhost/stream"), signal, {
          broker,
          heartbeatMs: 0,
        }),
      );
    const streams = [await open(), await open()].map((r) => parseEventStream(r.body as never));
    expect(countOpenStreams()).toBe(2);
    await drainStreams(60_000);
    expect(isDraining()).toBe(true);
    expect(countOpenStreams()).toBe(0);
    for (const s of streams) {
      await s.ended;
      expect(s.raw()).toMatch(/: reconnect\nretry: \d+\n\n$/);
    }
    expect(broker.listenerCount()).toBe(0);
    const refused = await open();
    expect(refused.status).toBe(503);
    expect(["2", "3"]).toContain(refused.headers.get("retry-after"));
    expect((await refused.json()).error.code).toBe("shutting_down");
  });

  it("resolves at the timeout when a stream cannot end", async () => {
    resetSingletons("stream-registry");
    const broker = new MemoryBroker({ maxLength: 0, ttlSeconds: 0 });
    // A stream whose client never reads: its sink is never attached, so it cannot end.
    const result = await handleStreamRequest(
      new Request("http://localhost/stream"),
      new AbortController().signal,
      { broker, heartbeatMs: 0 },
    );
    expect(result).not.toBeInstanceOf(Response);
    const started = Date.now();
    await drainStreams(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    expect(countOpenStreams()).toBe(1);
  });

  it("spreads the ends over the drain window, in random order, not all at once", async () => {
    resetSingletons("stream-registry");
    const broker = new MemoryBroker({ maxLength: 0, ttlSeconds: 0 });
    const signal = new AbortController().signal;
    const streams = await Promise.all(
      Array.from({ length: 40 }, async () =>
        parseEventStream(
          toWebResponse(
            await handleStreamRequest(new Request("http://localhost/stream"), signal, {
              broker,
              heartbeatMs: 0,
            }),
          ).body as never,
        ),
      ),
    );
    const started = Date.now();
    const endedAt: number[] = [];
    const ended = Promise.all(
      streams.map((s) => s.ended.then(() => endedAt.push(Date.now() - started))),
    );
    await drainStreams(60_000, 400);
    await ended;
    endedAt.sort((a, b) => a - b);
    // A slice every 50 ms over 400 ms: the first at once, the last near the window's end.
    expect(endedAt[0]).toBeLessThan(100);
    expect(endedAt.at(-1)).toBeGreaterThanOrEqual(300);
    const hints = streams.map((s) => Number(/retry: (\d+)\n\n$/.exec(s.raw())?.[1]));
    expect(new Set(hints).size).toBeGreaterThan(10);
  });
});
