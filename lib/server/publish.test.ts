import { beforeAll, describe, expect, inject, it } from "vitest";
import { getBroker } from "@/lib/server/broker";
import { openEventStream } from "@/lib/server/event-stream";
import { publish } from "@/lib/server/publish";
import { SseInputError } from "@/lib/sse/encode";
import { textReader } from "@/tests/support/read-stream";

describe("publish (Flask-SSE's sse.publish) over a real Redis", () => {
  beforeAll(() => {
    // This file's worker reads its settings once, on first use: point it at the test Redis.
    process.env.SSE_REDIS_URL = inject("redisUrl");
  });

  it("uses the Redis broker when a URL is configured", () => {
    expect(getBroker().kind).toBe("redis");
  });

  it("encodes once and reaches every stream on the channel, counting processes", async () => {
    const channel = `publish-${process.pid}`;
    const signal = new AbortController().signal;
    const readers = await Promise.all(
      [1, 2].map(async () => textReader(await openEventStream({ channels: [channel], signal }))),
    );
    for (const r of readers) await r.next();
    const receivers = await publish(
      { message: "Hi", lines: "a\nb" },
      { type: "greeting", id: 0, retry: 0, channel },
    );
    expect(receivers).toBe(1);
    for (const r of readers) {
      expect(await r.next()).toBe(
        'event: greeting\ndata: {"message":"Hi","lines":"a\\nb"}\nretry: 0\nid: 0\n\n',
      );
      await r.reader.cancel();
    }
  });

  it("publishes on channel sse by default and answers 0 when nobody listens", async () => {
    expect(await publish("nobody")).toBe(0);
  });

  it("rejects unsafe input before it reaches Redis", async () => {
    await expect(publish("x", { type: "a\nevent: forged" })).rejects.toBeInstanceOf(SseInputError);
    await expect(publish("x", { channel: "bad channel" })).rejects.toThrow(/invalid channel/);
    await expect(publish("x", { retry: -5 })).rejects.toThrow(/retry/);
  });
});
