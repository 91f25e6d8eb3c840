import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Broker } from "@/lib/broker/types";
import { BROKERS, freshChannel, HISTORY, historyOf } from "@/tests/support/broker-contract";
import { openEventStream } from "@/tests/support/open-stream";
import { parseEventStream } from "@/tests/support/sse-client";

/**
 * What a channel's declaration (`lib/channels.ts`) changes in a stream, on every broker:
 * cache mode (`status.*`: a new subscriber gets the newest event first) and per-channel
 * history bounds (`orders` keeps its newest 50 past the TTL).
 */
describe.each(BROKERS)("declared channel rules: %s", (_name, makeBroker) => {
  let broker: Broker;
  beforeAll(() => {
    broker = makeBroker(HISTORY)();
  });
  afterAll(() => broker.close());

  const open = (channel: string, signal: AbortSignal, lastEventId?: string) =>
    openEventStream({
      broker,
      signal,
      channels: [channel],
      lastEventId,
      retryMs: 3000,
      heartbeatMs: 0,
      maxBacklogBytes: 1 << 20,
      maxStreamSeconds: 0,
      maxConnections: 1000,
      maxReplayBytes: 1 << 20,
    }).then(parseEventStream);
  const status = (state: string) => ({
    body: `event: status\ndata: ${JSON.stringify({ state })}\n`,
  });

  it("cache mode: a new subscriber gets the newest event first, then live; an empty channel sends nothing extra", async () => {
    const channel = `status.${freshChannel()}`;
    const abort = new AbortController();
    const empty = await open(channel, abort.signal);
    await broker.publish(channel, status("up"));
    // The first event of a stream on an empty cache channel is the live one: nothing before.
    const [first] = await empty.waitForEvents(1);
    expect(first).toMatchObject({ event: "status", data: '{"state":"up"}' });
    const second = await broker.publish(channel, status("degraded"));
    const late = await open(channel, abort.signal);
    await broker.publish(channel, status("down"));
    const events = await late.waitForEvents(2);
    expect(events.map((e) => [e.data, e.id])).toEqual([
      ['{"state":"degraded"}', second.id],
      ['{"state":"down"}', expect.any(String)],
    ]);
    abort.abort();
  });

  it("cache mode: a subscriber with a Last-Event-ID gets what it missed, not the cache event again", async () => {
    const channel = `status.${freshChannel()}`;
    const abort = new AbortController();
    const seen = await broker.publish(channel, status("up"));
    const missed = await broker.publish(channel, status("down"));
    const resumed = await open(channel, abort.signal, seen.id);
    const newest = await broker.publish(channel, status("up"));
    const events = await resumed.waitForEvents(2);
    expect(events.map((e) => e.data)).toEqual(['{"state":"down"}', '{"state":"up"}']);
    expect(events[0].id).toBe(missed.id);
    // Already at the newest: nothing replayed, the cache event is not sent again.
    const current = await open(channel, abort.signal, newest.id);
    await broker.publish(channel, status("degraded"));
    const [next] = await current.waitForEvents(1);
    expect(next.data).toBe('{"state":"degraded"}');
    abort.abort();
  });

  it("keeps a channel's own history bounds: the newest N past the TTL", async () => {
    const channel = freshChannel();
    const retention = { maxLength: 100, ttlSeconds: 1, keepLast: 2, idleTtlSeconds: 60 };
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) {
      ids.push((await broker.publish(channel, { body: `data: ${i}\n`, retention })).id as string);
    }
    // Past the TTL: a time-based rule, so time has to pass.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const newest = await broker.publish(channel, { body: "data: new\n", retention });
    const kept = await historyOf(broker).readLatest(channel, 10);
    expect(kept.entries.map((e) => e.id)).toEqual([ids[3], newest.id]);
    // The broker's own bounds (1000 events, an hour) keep every event of another channel.
    const other = freshChannel();
    for (let i = 0; i < 4; i++) await broker.publish(other, { body: `data: ${i}\n` });
    expect((await historyOf(broker).readLatest(other, 10)).entries).toHaveLength(4);
  });
});
