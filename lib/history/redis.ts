import "server-only";
import type { ChannelHeads } from "@/lib/broker/channel-heads";
import type {
  ChannelHistory,
  HistoryEntry,
  HistoryOptions,
  HistoryPageQuery,
  Replay,
} from "@/lib/history/types";
import type { Scripted } from "@/lib/redis/connection";
import type { RedisNames } from "@/lib/redis/names";
import { closeFrame } from "@/lib/sse/frame";
import { ORIGIN_ID } from "@/lib/sse/ids";

/** What the history store needs of the broker: its command connection, names and bounds. */
export interface RedisHistoryDeps {
  publisher(): Scripted;
  names: RedisNames;
  heads: ChannelHeads;
  options: HistoryOptions;
  withTimeout<T>(operation: string, promise: Promise<T>): Promise<T>;
}

/**
 * A channel's history in Redis: a Redis Stream per channel (written by the publish script,
 * beside the PUBLISH) and a set of the ids moderation deleted. Reads for resume
 * (`readSince`, `readLatest`), pages for the history API, and moderation.
 */
export class RedisHistory implements ChannelHistory {
  constructor(private readonly deps: RedisHistoryDeps) {}

  /** Known from the live subscription (`channel-heads.ts`) while it is confirmed. */
  newestKnown(channel: string): string | undefined {
    return this.deps.heads.newest(channel);
  }

  async readSince(
    channel: string,
    position: string | undefined,
    limit = Number.POSITIVE_INFINITY,
  ): Promise<Replay> {
    const head = this.deps.heads.newest(channel);
    if (head !== undefined && (position === undefined || position === head)) {
      return { gap: false, lastId: head, entries: [] };
    }
    const ticket = this.deps.heads.readTicket();
    const [status, lastId, rows, through, more] = await this.deps.withTimeout(
      "history read",
      this.deps
        .publisher()
        .sseReadSince(
          this.deps.names.history(channel),
          this.deps.names.deleted(channel),
          position ?? "",
          Math.min(limit, this.deps.options.maxLength),
        ),
    );
    const entries: HistoryEntry[] = rows.map(([id, fields]) => ({
      id,
      frame: Buffer.from(closeFrame(fields[1], id)),
    }));
    this.deps.heads.seeRead(ticket, channel, lastId);
    return {
      gap: status === "gap",
      lastId,
      entries,
      through: through || undefined,
      more: more === undefined ? undefined : more === 1,
    };
  }

  async readLatest(channel: string, count: number): Promise<Replay> {
    if (count <= 0) return this.readSince(channel, undefined);
    // Trimming only ever removes the oldest entries, so the newest entry is the newest id
    // (an empty or expired history has neither).
    const publisher = this.deps.publisher();
    // Read past the deleted ones, so `count` events remain.
    const deleted = await this.deps.withTimeout(
      "history read",
      publisher.scard(this.deps.names.deleted(channel)),
    );
    const rows = (await this.deps.withTimeout(
      "history read",
      publisher.xrevrange(this.deps.names.history(channel), "+", "-", "COUNT", count + deleted),
    )) as Array<[string, string[]]>;
    const lastId = rows[0]?.[0] ?? ORIGIN_ID;
    const entries = (await this.withoutDeleted(channel, rows, deleted > 0))
      .slice(0, count)
      .reverse();
    return { gap: false, lastId, entries };
  }

  /** History rows as entries, minus the ids moderation deleted. */
  private async withoutDeleted(
    channel: string,
    rows: Array<[string, string[]]>,
    anyDeleted = true,
  ): Promise<HistoryEntry[]> {
    const deleted =
      rows.length === 0 || !anyDeleted
        ? []
        : await this.deps.withTimeout(
            "history read",
            this.deps.publisher().smembers(this.deps.names.deleted(channel)),
          );
    const gone = new Set(deleted);
    return rows
      .filter(([id]) => !gone.has(id))
      .map(([id, fields]) => ({ id, frame: Buffer.from(closeFrame(fields[1], id)) }));
  }

  async deleteEvent(channel: string, id: string): Promise<boolean> {
    const publisher = this.deps.publisher();
    const key = this.deps.names.history(channel);
    const found = await this.deps.withTimeout("history read", publisher.xrange(key, id, id));
    if (found.length === 0) return false;
    const deleted = this.deps.names.deleted(channel);
    // The set lives as long as the history it refers to (a channel may declare its own).
    const { ttlSeconds, idleTtlSeconds = ttlSeconds } = this.deps.options;
    const left = await this.deps.withTimeout("history read", publisher.ttl(key));
    await this.deps.withTimeout(
      "history write",
      Promise.all([
        publisher.sadd(deleted, id),
        publisher.expire(deleted, left > 0 ? left : Math.max(ttlSeconds, idleTtlSeconds)),
      ]),
    );
    return true;
  }

  async readPage(channel: string, page: HistoryPageQuery): Promise<HistoryEntry[]> {
    const { after, before, limit, newestFirst } = page;
    // Exclusive bounds: `(id`. The ids were validated as stream ids by the caller.
    const low = after === undefined ? "-" : `(${after}`;
    const high = before === undefined ? "+" : `(${before}`;
    const key = this.deps.names.history(channel);
    const publisher = this.deps.publisher();
    const rows = (await this.deps.withTimeout(
      "history read",
      newestFirst
        ? publisher.xrevrange(key, high, low, "COUNT", limit)
        : publisher.xrange(key, low, high, "COUNT", limit),
    )) as Array<[string, string[]]>;
    return this.withoutDeleted(channel, rows);
  }
}
