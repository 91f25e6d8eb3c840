import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Broker } from "@/lib/broker/types";
import type { HistoryPageQuery } from "@/lib/history/types";
import { compareStreamIds } from "@/lib/sse/ids";
import {
  BROKERS,
  collect,
  decoder,
  event,
  freshChannel,
  HISTORY,
  historyOf,
} from "@/tests/support/broker-contract";

/**
 * What every `ChannelHistory` keeps and reads. History is written only by its broker's
 * publish, so each case runs on a broker (memory, Redis, Redis Cluster) and reads its
 * `history`.
 */
describe.each(BROKERS)("history contract: %s", (_name, makeBroker) => {
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
    const replay = await historyOf(broker).readSince(channel, ids[1]);
    expect(replay.gap).toBe(false);
    expect(replay.lastId).toBe(ids[4]);
    expect(replay.entries.map((e) => e.id)).toEqual(ids.slice(2));
    expect(replay.entries.map((e) => decoder.decode(e.frame))).toEqual(
      [3, 4, 5].map((n, i) => `data: ${n}\nid: ${ids[i + 2]}\n\n`),
    );
    expect((await historyOf(broker).readSince(channel, ids[4])).entries).toEqual([]);
  });

  it("reads a channel's newest events, oldest first, for a rewind", async () => {
    const channel = freshChannel();
    expect(await historyOf(broker).readLatest(channel, 5)).toEqual({
      gap: false,
      lastId: "0-0",
      entries: [],
    });
    const ids = await publishAll(broker, channel, 5);
    const latest = await historyOf(broker).readLatest(channel, 3);
    expect(latest.entries.map((e) => e.id)).toEqual(ids.slice(2));
    expect(latest).toMatchObject({ gap: false, lastId: ids[4] });
    expect((await historyOf(broker).readLatest(channel, 10)).entries.map((e) => e.id)).toEqual(ids);
    expect(decoder.decode(latest.entries[0].frame)).toBe(`data: 3\nid: ${ids[2]}\n\n`);
  });

  it("reads pages of history between ids, either way round, for the history API", async () => {
    const channel = freshChannel();
    const ids = await publishAll(broker, channel, 5);
    const page = (query: Omit<HistoryPageQuery, "limit">, limit = 10) =>
      historyOf(broker)
        .readPage(channel, { limit, ...query })
        .then((entries) => entries.map((e) => e.id));
    expect(await page({ newestFirst: true }, 2)).toEqual([ids[4], ids[3]]);
    expect(await page({ newestFirst: false }, 2)).toEqual([ids[0], ids[1]]);
    expect(await page({ newestFirst: true, before: ids[3], after: ids[0] })).toEqual([
      ids[2],
      ids[1],
    ]);
    expect(await page({ newestFirst: false, after: ids[3] })).toEqual([ids[4]]);
    expect(
      await historyOf(broker).readPage(freshChannel(), { limit: 5, newestFirst: true }),
    ).toEqual([]);
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
    const kept = await historyOf(keeping).readLatest(channel, 10);
    expect(kept.entries.map((e) => e.id)).toEqual([ids[3], newest.id]);
    // A position among the trimmed ones is a gap, said as such.
    expect((await historyOf(keeping).readSince(channel, ids[0])).gap).toBe(true);
    await keeping.close();
  });

  it("deletes an event for moderation: every read skips it, positions stay valid", async () => {
    const channel = freshChannel();
    const ids = await publishAll(broker, channel, 5);
    expect(await historyOf(broker).deleteEvent(channel, ids[1])).toBe(true);
    expect(await historyOf(broker).deleteEvent(channel, "1-0")).toBe(false);
    const all = await historyOf(broker).readSince(channel, "0-0");
    expect(all.entries.map((e) => e.id)).toEqual([ids[0], ids[2], ids[3], ids[4]]);
    // A page of only deleted events still moves on: `through` and `more` say where.
    const page = await historyOf(broker).readSince(channel, ids[0], 1);
    expect(page).toMatchObject({ gap: false, entries: [], through: ids[1], more: true });
    // Resuming from the deleted event itself is no gap.
    const after = await historyOf(broker).readSince(channel, ids[1]);
    expect(after.gap).toBe(false);
    expect(after.entries.map((e) => e.id)).toEqual(ids.slice(2));
    expect((await historyOf(broker).readLatest(channel, 4)).entries.map((e) => e.id)).toEqual([
      ids[0],
      ids[2],
      ids[3],
      ids[4],
    ]);
    const listed = await historyOf(broker).readPage(channel, { limit: 10, newestFirst: false });
    expect(listed.map((e) => e.id)).not.toContain(ids[1]);
  });

  it("reads history in pages", async () => {
    const channel = freshChannel();
    const ids = await publishAll(broker, channel, 5);
    const first = await historyOf(broker).readSince(channel, "0-0", 2);
    expect(first.entries.map((e) => e.id)).toEqual(ids.slice(0, 2));
    expect(first).toMatchObject({ gap: false, lastId: ids[4] });
    const second = await historyOf(broker).readSince(channel, ids[1], 2);
    expect(second.entries.map((e) => e.id)).toEqual(ids.slice(2, 4));
    const last = await historyOf(broker).readSince(channel, ids[3], 2);
    expect(last.entries.map((e) => e.id)).toEqual([ids[4]]);
  });

  it("starts a position-less stream at the newest id", async () => {
    const channel = freshChannel();
    expect(await historyOf(broker).readSince(channel, undefined)).toEqual({
      gap: false,
      lastId: "0-0",
      entries: [],
    });
    const ids = await publishAll(broker, channel, 2);
    expect(await historyOf(broker).readSince(channel, undefined)).toEqual({
      gap: false,
      lastId: ids[1],
      entries: [],
    });
    const fromOrigin = await historyOf(broker).readSince(channel, "0-0");
    expect(fromOrigin.entries.map((e) => e.id)).toEqual(ids);
  });

  it("reports a gap for trimmed, unknown and future positions", async () => {
    const channel = freshChannel();
    const ids = await publishAll(small, channel, 5);
    expect(await historyOf(small).readSince(channel, ids[0])).toMatchObject({
      gap: true,
      lastId: ids[4],
    });
    const fromNewestTrimmed = await historyOf(small).readSince(channel, ids[1]);
    expect(fromNewestTrimmed.gap).toBe(false);
    expect(fromNewestTrimmed.entries.map((e) => e.id)).toEqual(ids.slice(2));
    expect((await historyOf(small).readSince(channel, "9999999999999-0")).gap).toBe(true);
    expect((await historyOf(small).readSince(freshChannel(), ids[0])).gap).toBe(true);
    expect((await historyOf(small).readSince(freshChannel(), "0-0")).gap).toBe(false);
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

  it("writes an event under the id its one writer chose; that id or a lower one again is a duplicate", async () => {
    const channel = freshChannel();
    const sink = collect();
    await broker.subscribe(channel, sink.listener);
    const base = Date.now();
    const first = await broker.publish(channel, { body: "data: a\n", at: `${base}-0` });
    const second = await broker.publish(channel, { body: "data: b\n", at: `${base}-1` });
    expect(first).toMatchObject({ id: `${base}-0`, duplicate: false });
    expect(second).toMatchObject({ id: `${base}-1`, duplicate: false });
    // Retried through an outage, or late: kept once.
    expect(await broker.publish(channel, { body: "data: b\n", at: `${base}-1` })).toMatchObject({
      duplicate: true,
      receivers: 0,
    });
    expect((await broker.publish(channel, { body: "data: x\n", at: `${base}-0` })).duplicate).toBe(
      true,
    );
    const replay = await historyOf(broker).readSince(channel, "0-0");
    expect(replay.entries.map((e) => [e.id, decoder.decode(e.frame)])).toEqual([
      [`${base}-0`, `data: a\nid: ${base}-0\n\n`],
      [`${base}-1`, `data: b\nid: ${base}-1\n\n`],
    ]);
    // Live, with their ids (a duplicate's live copy, if any, carries an id streams already passed).
    const live = await sink.waitFor(2);
    expect(live.slice(0, 2).map((r) => r.id)).toEqual([`${base}-0`, `${base}-1`]);
    // A publish without an id after them takes the next place.
    const next = await broker.publish(channel, event("c"));
    expect(compareStreamIds(next.id as string, `${base}-1`)).toBe(1);
    broker.unsubscribe(channel, sink.listener);
  });
});
