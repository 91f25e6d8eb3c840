import { afterAll, describe, expect, it } from "vitest";
import { MemoryBroker } from "@/lib/broker/memory";
import { resetSingletons } from "@/lib/ops/singleton";
import { handleStreamRequest } from "@/lib/stream/handle-request";
import { countOpenStreams, drainStreams, isDraining } from "@/lib/stream/registry";
import { toWebResponse } from "@/lib/transport/sinks";
import { parseEventStream } from "@/tests/support/sse-client";

describe("draining (graceful shutdown)", () => {
  afterAll(() => resetSingletons("stream-registry"));

  it("ends open streams with retry 0, resolves when they are gone, then refuses new ones with 503", async () => {
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
      expect(s.raw()).toMatch(/: reconnect\nretry: 0\n\n$/);
    }
    expect(broker.listenerCount()).toBe(0);
    const refused = await open();
    expect(refused.status).toBe(503);
    expect(refused.headers.get("retry-after")).toBe("1");
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
});
