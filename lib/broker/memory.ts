import "server-only";
import { ChannelListeners } from "@/lib/broker/listeners";
import type {
  Broker,
  FrameListener,
  HistoryEntry,
  HistoryOptions,
  HistoryPageQuery,
  OutgoingEvent,
  PublishResult,
  RecoveryPhase,
  Replay,
} from "@/lib/broker/types";
import { closeFrame, frameBytes } from "@/lib/sse/frame";
import { compareStreamIds, ORIGIN_ID } from "@/lib/sse/ids";

interface StoredEntry extends HistoryEntry {
  at: number;
}

interface ChannelHistory {
  entries: StoredEntry[];
  lastId: string;
  /** The newest id ever trimmed: a position before it may have missed events. */
  maxDeletedId: string;
  /** Idempotency keys -> the result of their first publish, with the time it was seen. */
  keys: Map<string, { id: string; at: number }>;
  lastPublishAt: number;
  /** Ids deleted by moderation: kept in the ring (positions stay valid), never read. */
  deleted: Set<string>;
}

/**
 * A broker inside one process, for development without Redis: the same semantics as the
 * Redis broker (history in a ring buffer, ids `<ms>-<seq>`), but it cannot reach other
 * processes, so it is for a single `next dev` or `next start`.
 */
export class MemoryBroker implements Broker {
  readonly kind = "memory";
  readonly history: boolean;
  private readonly listeners = new ChannelListeners();
  private readonly channels = new Map<string, ChannelHistory>();
  private readonly maxLength: number;
  private readonly ttlMs: number;
  private readonly keepLast: number;
  /** How long a channel's history outlives its last publish (as the Redis key's expiry). */
  private readonly idleMs: number;

  constructor(history: HistoryOptions = { maxLength: 1000, ttlSeconds: 3600 }) {
    this.history = history.maxLength > 0 && history.ttlSeconds > 0;
    this.maxLength = history.maxLength;
    this.ttlMs = history.ttlSeconds * 1000;
    this.keepLast = history.keepLast ?? 0;
    this.idleMs = Math.max(this.ttlMs, (history.idleTtlSeconds ?? history.ttlSeconds) * 1000);
  }

  /** A channel's history, trimmed; undefined when it has none or it expired while idle. */
  private current(channel: string, now: number): ChannelHistory | undefined {
    const history = this.channels.get(channel);
    if (history === undefined) return undefined;
    if (now - history.lastPublishAt > this.idleMs) {
      this.channels.delete(channel);
      return undefined;
    }
    this.trim(history, now);
    return history;
  }

  async publish(channel: string, event: OutgoingEvent): Promise<PublishResult> {
    if (!this.history) {
      const frame = frameBytes(closeFrame(event.body, event.id));
      const receivers = this.listeners.dispatch(channel, frame, undefined) > 0 ? 1 : 0;
      return { id: event.id, receivers, duplicate: false };
    }
    const now = Date.now();
    const history = this.channelHistory(channel, now);
    if (event.id !== undefined) {
      const seen = history.keys.get(event.id);
      if (seen !== undefined) return { id: seen.id, receivers: 0, duplicate: true };
    }
    const id = this.nextId(history.lastId, now);
    const frame = frameBytes(closeFrame(event.body, id));
    history.entries.push({ id, frame, at: now });
    history.lastId = id;
    history.lastPublishAt = now;
    if (event.id !== undefined) history.keys.set(event.id, { id, at: now });
    this.trim(history, now);
    const receivers = this.listeners.dispatch(channel, frame, id) > 0 ? 1 : 0;
    return { id, receivers, duplicate: false };
  }

  async notify(channel: string, body: string): Promise<void> {
    this.listeners.dispatch(channel, frameBytes(closeFrame(body, undefined)), undefined);
  }

  async readSince(
    channel: string,
    position: string | undefined,
    limit = Number.POSITIVE_INFINITY,
  ): Promise<Replay> {
    const history = this.current(channel, Date.now());
    const lastId = history?.lastId ?? ORIGIN_ID;
    if (position === undefined) return { gap: false, lastId, entries: [] };
    if (history === undefined) {
      return { gap: position !== ORIGIN_ID, lastId, entries: [] };
    }
    if (
      compareStreamIds(position, lastId) > 0 ||
      compareStreamIds(history.maxDeletedId, position) > 0
    ) {
      return { gap: true, lastId, entries: [] };
    }
    const read = history.entries
      .filter((entry) => compareStreamIds(entry.id, position) > 0)
      .slice(0, limit);
    const entries = read
      .filter((entry) => !history.deleted.has(entry.id))
      .map(({ id, frame }) => ({ id, frame }));
    return { gap: false, lastId, entries, through: read.at(-1)?.id, more: read.length >= limit };
  }

  async readLatest(channel: string, count: number): Promise<Replay> {
    const history = this.current(channel, Date.now());
    if (history === undefined) return { gap: false, lastId: ORIGIN_ID, entries: [] };
    const alive = history.entries.filter((entry) => !history.deleted.has(entry.id));
    const entries = count > 0 ? alive.slice(-count) : [];
    return {
      gap: false,
      lastId: history.lastId,
      entries: entries.map(({ id, frame }) => ({ id, frame })),
    };
  }

  async readPage(channel: string, page: HistoryPageQuery): Promise<HistoryEntry[]> {
    const history = this.current(channel, Date.now());
    if (history === undefined) return [];
    const { after, before, limit, newestFirst } = page;
    const inRange = history.entries.filter(
      (entry) =>
        !history.deleted.has(entry.id) &&
        (after === undefined || compareStreamIds(entry.id, after) > 0) &&
        (before === undefined || compareStreamIds(entry.id, before) < 0),
    );
    const ordered = newestFirst ? inRange.reverse() : inRange;
    return ordered.slice(0, limit).map(({ id, frame }) => ({ id, frame }));
  }

  async deleteEvent(channel: string, id: string): Promise<boolean> {
    const history = this.current(channel, Date.now());
    if (history === undefined || !history.entries.some((entry) => entry.id === id)) return false;
    history.deleted.add(id);
    return true;
  }

  subscribe(channel: string, listener: FrameListener): Promise<void> | undefined {
    this.listeners.add(channel, listener);
    return undefined;
  }

  newestKnown(channel: string): string | undefined {
    if (!this.history) return undefined;
    return this.current(channel, Date.now())?.lastId ?? ORIGIN_ID;
  }

  unsubscribe(channel: string, listener: FrameListener): void {
    this.listeners.remove(channel, listener);
  }

  listenerCount(channel?: string): number {
    return this.listeners.count(channel);
  }

  /** In-process delivery never drops, so there is never anything to recover. */
  onRecover(_callback: (phase: RecoveryPhase) => void): () => void {
    return () => {};
  }

  async ping(): Promise<boolean> {
    return true;
  }

  async close(): Promise<void> {}

  private channelHistory(channel: string, now: number): ChannelHistory {
    let history = this.current(channel, now);
    if (history === undefined) {
      history = {
        entries: [],
        lastId: ORIGIN_ID,
        maxDeletedId: ORIGIN_ID,
        keys: new Map(),
        lastPublishAt: now,
        deleted: new Set(),
      };
      this.channels.set(channel, history);
    }
    return history;
  }

  /** Like XADD `*`: the clock's millisecond, or the last one's next sequence if not later. */
  private nextId(lastId: string, now: number): string {
    const dash = lastId.indexOf("-");
    const lastMs = Number(lastId.slice(0, dash));
    return now > lastMs ? `${now}-0` : `${lastMs}-${Number(lastId.slice(dash + 1)) + 1}`;
  }

  private trim(history: ChannelHistory, now: number): void {
    const { entries } = history;
    let drop = Math.max(0, entries.length - this.maxLength);
    // Older than the TTL goes, but the newest `keepLast` stay (until the channel idles out).
    while (entries.length - drop > this.keepLast && now - entries[drop].at > this.ttlMs) drop++;
    if (drop > 0) {
      history.maxDeletedId = entries[drop - 1].id;
      for (const entry of entries.splice(0, drop)) history.deleted.delete(entry.id);
    }
    for (const [key, seen] of history.keys) {
      if (now - seen.at <= this.ttlMs) break;
      history.keys.delete(key);
    }
  }
}
