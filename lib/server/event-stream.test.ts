import { describe, expect, it } from "vitest";
import { MemoryBroker } from "@/lib/server/broker/memory";
import { RedisBroker } from "@/lib/server/broker/redis";
import { BrokerUnavailableError } from "@/lib/server/broker/types";
import { countOpenStreams, openEventStream } from "@/lib/server/event-stream";
import { getFreePort } from "@/tests/support/ports";
import { textReader } from "@/tests/support/read-stream";

const frame = (text: string) => new TextEncoder().encode(text);
const HELLO = ": connected\nretry: 3000\n\n";

function setup(overrides: { heartbeatMs?: number; maxBacklogBytes?: number } = {}) {
  const broker = new MemoryBroker();
  const abort = new AbortController();
  const open = (channels = ["sse"]) =>
    openEventStream({
      broker,
      channels,
      signal: abort.signal,
      retryMs: 3000,
      heartbeatMs: overrides.heartbeatMs ?? 0,
      maxBacklogBytes: overrides.maxBacklogBytes ?? 1 << 20,
    });
  return { broker, abort, open };
}

describe("openEventStream", () => {
  it("writes the comment and retry first, then the events of its channels", async () => {
    const { broker, open } = setup();
    const { next, reader } = textReader(await open(["a", "b"]));
    expect(await next()).toBe(HELLO);
    await broker.publish("a", frame("data: 1\n\n"));
    expect(await next()).toBe("data: 1\n\n");
    await broker.publish("c", frame("data: other\n\n"));
    await broker.publish("b", frame("data: 2\n\n"));
    expect(await next()).toBe("data: 2\n\n");
    await reader.cancel();
  });

  it("joins the frames of one turn into one chunk", async () => {
    const { broker, open } = setup();
    const { next, reader } = textReader(await open());
    expect(await next()).toBe(HELLO);
    for (const n of [1, 2, 3]) void broker.publish("sse", frame(`data: ${n}\n\n`));
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

  it("does not subscribe for a request that is already aborted", async () => {
    const { broker, abort, open } = setup();
    abort.abort();
    const stream = await open();
    expect(broker.listenerCount()).toBe(0);
    expect((await stream.getReader().read()).done).toBe(true);
  });

  it("sends a keep-alive comment to an idle stream", async () => {
    const { open } = setup({ heartbeatMs: 300 });
    const { next, reader } = textReader(await open());
    expect(await next()).toBe(HELLO);
    expect(await next()).toBe(": \n\n");
    await reader.cancel();
  });

  it("drops a client whose backlog passes the bound, without affecting others", async () => {
    const { broker, open } = setup({ maxBacklogBytes: 4096 });
    const stalled = await open();
    const reading = textReader(await open());
    expect(await reading.next()).toBe(HELLO);
    const payload = `data: ${"x".repeat(1000)}\n\n`;
    let received = "";
    for (let i = 0; i < 20; i++) {
      await broker.publish("sse", frame(payload));
      received += await reading.next();
    }
    expect(received).toBe(payload.repeat(20));
    expect(broker.listenerCount("sse")).toBe(1);
    await expect(stalled.getReader().read()).rejects.toThrow(/slow consumer/);
    await reading.reader.cancel();
  });

  it("rejects with BrokerUnavailableError, leaving no listener, when Redis is down", async () => {
    const broker = new RedisBroker({
      url: `redis://127.0.0.1:${await getFreePort()}`,
      timeoutMs: 300,
    });
    const before = countOpenStreams();
    await expect(
      openEventStream({
        broker,
        channels: ["sse"],
        signal: new AbortController().signal,
        retryMs: 3000,
        heartbeatMs: 0,
        maxBacklogBytes: 1 << 20,
      }),
    ).rejects.toBeInstanceOf(BrokerUnavailableError);
    expect(broker.listenerCount()).toBe(0);
    expect(countOpenStreams()).toBe(before);
    await broker.close();
  });
});
