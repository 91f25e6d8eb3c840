import "server-only";
import type {
  ChannelHistory,
  HistoryEntry,
  HistoryOptions,
  HistoryPageQuery,
  Replay,
} from "@/lib/history/types";
import { closeFrame, frameBytes } from "@/lib/sse/frame";
import { compareStreamIds, ORIGIN_ID } from "@/lib/sse/ids";

interface StoredEntry extends HistoryEntry {
  at: number;
}

interface Kept {
  entries: StoredEntry[];
  lastId: string;
  /** The newest id ever trimmed: a position before it may have missed events. */
  maxDeletedId: string;
  /** Idempotency keys -> the result of their first publish, with the time it was seen. */
  keys: Map<string, { id: string; at: number }>;
  lastPublishAt: number;
  /** Ids deleted by moderation: kept in the ring (positions stay valid), never read. */
  deleted: Set<string>;
  /** The channel's bounds (its own when it declares them). */
  bounds: Bounds;
}

interface Bounds {
  maxLength: number;
  ttlMs: number;
  keepLast: number;
  /** How long a channel's history outlives its last publish (as the Redis key's expiry). */
  idleMs: number;
}

function boundsOf(options: HistoryOptions): Bounds {
  const ttlMs = options.ttlSeconds * 1000;
  return {
    maxLength: options.maxLength,
    ttlMs,
    keepLast: options.keepLast ?? 0,
    idleMs: Math.max(ttlMs, (options.idleTtlSeconds ?? options.ttlSeconds) * 1000),
  };
}

/** What appending did: the new entry, or the first entry of a repeated idempotency key. */
export type Appended = { entry: HistoryEntry; duplicate: false } | { id: string; duplicate: true };

/**
 * History inside one process, for the in-memory broker: a ring per channel with the same
 * semantics as Redis Streams (ids `<ms>-<seq>`, trimming by length and age, idle expiry).
 */
export class MemoryHistory implements ChannelHistory {
  private readonly channels = new Map<string, Kept>();
  private readonly bounds: Bounds;

  constructor(options: HistoryOptions) {
    this.bounds = boundsOf(options);
  }

  /**
   * Appends one event (the broker's publish); `key` is the publisher's idempotency key,
   * `retention` the channel's own bounds when it declares them, `at` the id the writer
   * chose (see `OutgoingEvent.at`).
   */
  append(
    channel: string,
    body: string,
    key: string | undefined,
    retention?: HistoryOptions,
    at?: string,
  ): Appended {
    const now = Date.now();
    const kept = this.keptOrNew(channel, now);
    kept.bounds = retention === undefined ? this.bounds : boundsOf(retention);
    if (at !== undefined && compareStreamIds(at, kept.lastId) <= 0)
      return { id: at, duplicate: true };
    if (key !== undefined && at === undefined) {
      const seen = kept.keys.get(key);
      if (seen !== undefined) return { id: seen.id, duplicate: true };
    }
    const id = at ?? nextId(kept.lastId, now);
    const frame = frameBytes(closeFrame(body, id));
    kept.entries.push({ id, frame, at: now });
    kept.lastId = id;
    kept.lastPublishAt = now;
    if (key !== undefined) kept.keys.set(key, { id, at: now });
    this.trim(kept, now);
    return { entry: { id, frame }, duplicate: false };
  }

  async readSince(
    channel: string,
    position: string | undefined,
    limit = Number.POSITIVE_INFINITY,
  ): Promise<Replay> {
    const kept = this.current(channel, Date.now());
    const lastId = kept?.lastId ?? ORIGIN_ID;
    if (position === undefined) return { gap: false, lastId, entries: [] };
    if (kept === undefined) return { gap: position !== ORIGIN_ID, lastId, entries: [] };
    if (
      compareStreamIds(position, lastId) > 0 ||
      compareStreamIds(kept.maxDeletedId, position) > 0
    ) {
      return { gap: true, lastId, entries: [] };
    }
    const read = kept.entries
      .filter((entry) => compareStreamIds(entry.id, position) > 0)
      .slice(0, limit);
    const entries = read
      .filter((entry) => !kept.deleted.has(entry.id))
      .map(({ id, frame }) => ({ id, frame }));
    return { gap: false, lastId, entries, through: read.at(-1)?.id, more: read.length >= limit };
  }

  async readLatest(channel: string, count: number): Promise<Replay> {
    const kept = this.current(channel, Date.now());
    if (kept === undefined) return { gap: false, lastId: ORIGIN_ID, entries: [] };
    const alive = kept.entries.filter((entry) => !kept.deleted.has(entry.id));
    const entries = count > 0 ? alive.slice(-count) : [];
    return {
      gap: false,
      lastId: kept.lastId,
      entries: entries.map(({ id, frame }) => ({ id, frame })),
    };
  }

  async readPage(channel: string, page: HistoryPageQuery): Promise<HistoryEntry[]> {
    const kept = this.current(channel, Date.now());
    if (kept === undefined) return [];
    const { after, before, limit, newestFirst } = page;
    const inRange = kept.entries.filter(
      (entry) =>
        !kept.deleted.has(entry.id) &&
        (after === undefined || compareStreamIds(entry.id, after) > 0) &&
        (before === undefined || compareStreamIds(entry.id, before) < 0),
    );
    const ordered = newestFirst ? inRange.reverse() : inRange;
    return ordered.slice(0, limit).map(({ id, frame }) => ({ id, frame }));
  }

  async deleteEvent(channel: string, id: string): Promise<boolean> {
    const kept = this.current(channel, Date.now());
    if (kept === undefined || !kept.entries.some((entry) => entry.id === id)) return false;
    kept.deleted.add(id);
    return true;
  }

  /** In one process every publish passes here, so the newest id is always known. */
  newestKnown(channel: string): string | undefined {
    return this.current(channel, Date.now())?.lastId ?? ORIGIN_ID;
  }

  /** A channel's history, trimmed; undefined when it has none or it expired while idle. */
  private current(channel: string, now: number): Kept | undefined {
    const kept = this.channels.get(channel);
    if (kept === undefined) return undefined;
    if (now - kept.lastPublishAt > kept.bounds.idleMs) {
      this.channels.delete(channel);
      return undefined;
    }
    this.trim(kept, now);
    return kept;
  }

  private keptOrNew(channel: string, now: number): Kept {
    let kept = this.current(channel, now);
    if (kept === undefined) {
      kept = {
        entries: [],
        lastId: ORIGIN_ID,
        maxDeletedId: ORIGIN_ID,
        keys: new Map(),
        lastPublishAt: now,
        deleted: new Set(),
        bounds: this.bounds,
      };
      this.channels.set(channel, kept);
    }
    return kept;
  }

  private trim(kept: Kept, now: number): void {
    const { entries } = kept;
    const { maxLength, keepLast, ttlMs } = kept.bounds;
    let drop = Math.max(0, entries.length - maxLength);
    // Older than the TTL goes, but the newest `keepLast` stay (until the channel idles out).
    while (entries.length - drop > keepLast && now - entries[drop].at > ttlMs) drop++;
    if (drop > 0) {
      kept.maxDeletedId = entries[drop - 1].id;
      for (const entry of entries.splice(0, drop)) kept.deleted.delete(entry.id);
    }
    for (const [key, seen] of kept.keys) {
      if (now - seen.at <= ttlMs) break;
      kept.keys.delete(key);
    }
  }
}

/** Like XADD `*`: the clock's millisecond, or the last one's next sequence if not later. */
function nextId(lastId: string, now: number): string {
  const dash = lastId.indexOf("-");
  const lastMs = Number(lastId.slice(0, dash));
  return now > lastMs ? `${now}-0` : `${lastMs}-${Number(lastId.slice(dash + 1)) + 1}`;
}
