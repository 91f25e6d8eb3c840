import { beforeAll, describe, expect, inject, it } from "vitest";
import { getBroker } from "@/lib/broker";
import { publish, publishEvent } from "@/lib/features/publish";
import { SseInputError } from "@/lib/sse/frame";
import { isStreamId } from "@/lib/sse/ids";
import { openEventStream } from "@/tests/support/open-stream";
import { parseEventStream } from "@/tests/support/sse-client";

describe("publish (Flask-SSE's sse.publish) over a real Redis", () => {
  beforeAll(() => {
    // This file's worker reads its settings once, on first use: point it at the test Redis.
    process.env.SSE_REDIS_URL = inject("redisUrl");
  });

  it("uses the Redis broker, with history, when a URL is configured", () => {
    expect(getBroker().kind).toBe("redis");
    expect(getBroker().history).toBeDefined();
  });

  it("encodes once and reaches every stream on the channel, counting processes", async () => {
    const channel = `publish-${process.pid}`;
    const abort = new AbortController();
    const streams = await Promise.all(
      [1, 2].map(async () =>
        parseEventStream(await openEventStream({ channels: [channel], signal: abort.signal })),
      ),
    );
    const receivers = await publish(
      { message: "Hi", lines: "a\nb" },
      { type: "note", retry: 0, channel },
    );
    expect(receivers).toBe(1);
    for (const s of streams) {
      const [event] = await s.waitForEvents(1);
      expect(event.event).toBe("note");
      expect(JSON.parse(event.data)).toEqual({ message: "Hi", lines: "a\nb" });
      expect(isStreamId(event.id ?? "")).toBe(true);
      expect(s.raw()).toContain(
        `event: note\ndata: {"message":"Hi","lines":"a\\nb"}\nretry: 0\nid: ${event.id}\n\n`,
      );
    }
    abort.abort();
  });

  it("treats a publisher id as an idempotency key", async () => {
    const channel = `publish-idem-${process.pid}`;
    const first = await publishEvent("once", { channel, id: 0 });
    const again = await publishEvent("once", { channel, id: 0 });
    expect(again).toEqual({ id: first.id, receivers: 0, duplicate: true });
  });

  it("types and checks channels' declared events (lib/channels.ts)", async () => {
    expect(await publish({ message: "typed" }, { type: "greeting" })).toBeGreaterThanOrEqual(0);
    expect(await publish({ item: "tea", qty: 2 }, { type: "order", channel: "orders" })).toBe(0);
    await expect(
      // @ts-expect-error an order's qty is a number
      publish({ item: "tea", qty: "2" }, { type: "order", channel: "orders" }),
    ).rejects.toThrow(/^data\.qty: .*expected number/);
    await expect(
      // @ts-expect-error "ordr" is not an event type of channel orders
      publish({ item: "tea", qty: 2 }, { type: "ordr", channel: "orders" }),
    ).rejects.toThrow('type: "ordr" is not an event type of channel orders (declared: order)');
    // A greeting carries { message: string }, on sse; other types pass there (strict: false).
    // @ts-expect-error a greeting's message is a string
    await expect(publish({ message: 1 }, { type: "greeting" })).rejects.toThrow(/data\.message/);
    expect(await publish("anything", { type: "note" })).toBeGreaterThanOrEqual(0);
  });

  it("publishes on channel sse by default and answers 0 when nobody listens", async () => {
    expect(await publish("nobody")).toBe(0);
  });

  it("rejects unsafe input before it reaches Redis", async () => {
    await expect(publish("x", { type: "a\nevent: forged" })).rejects.toBeInstanceOf(SseInputError);
    await expect(publish("x", { id: "a\rb" })).rejects.toThrow(/id must not contain/);
    await expect(publish("x", { channel: "bad channel" })).rejects.toThrow(/invalid channel/);
    await expect(publish("x", { retry: -5 })).rejects.toThrow(/retry/);
  });
});
