import { afterAll, describe, expect, it } from "vitest";
import { MemoryBroker } from "@/lib/server/broker/memory";
import { openEventStream } from "@/lib/server/event-stream";
import { HttpError } from "@/lib/server/http";
import { isDraining } from "@/lib/server/shutdown";
import { parseEventStream } from "@/tests/support/sse-client";

describe("graceful shutdown", () => {
  // The exit timer is far away: this test checks what happens before it.
  process.env.SSE_SHUTDOWN_TIMEOUT_MS = "600000";
  afterAll(() => {
    const key = Symbol.for("next-sse.shutdown");
    (globalThis as Record<symbol, { draining: boolean }>)[key].draining = false;
  });

  it("on SIGTERM ends open streams with retry 0 and refuses new ones with 503", async () => {
    const broker = new MemoryBroker({ maxLength: 0, ttlSeconds: 0 });
    const signal = new AbortController().signal;
    const open = () => openEventStream({ broker, channels: ["sse"], signal, heartbeatMs: 0 });
    const streams = [parseEventStream(await open()), parseEventStream(await open())];
    process.emit("SIGTERM", "SIGTERM");
    expect(isDraining()).toBe(true);
    for (const s of streams) {
      await s.ended;
      expect(s.raw()).toMatch(/: reconnect\nretry: 0\n\n$/);
    }
    expect(broker.listenerCount()).toBe(0);
    const refused = await open().catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(HttpError);
    expect(refused).toMatchObject({
      status: 503,
      code: "shutting_down",
      headers: { "Retry-After": "1" },
    });
  });
});
