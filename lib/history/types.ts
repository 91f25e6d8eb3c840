import "server-only";

/** One stored event, framed with its id. */
export interface HistoryEntry {
  id: string;
  frame: Uint8Array;
}

/** The answer to "what happened on this channel after this position?". */
export interface Replay {
  /** True when events after the position may be missing (trimmed, expired, or unknown id). */
  gap: boolean;
  /** The channel's newest position: where a stream starts when it has no position. */
  lastId: string;
  /** Events after the position, oldest first (empty when there is a gap). */
  entries: HistoryEntry[];
  /**
   * The last id this read went through, deleted events (`deleteEvent`) included: the next
   * page starts after it, even when every event of this one was deleted.
   */
  through?: string;
  /** True when the read stopped at its limit: there may be more after `through`. */
  more?: boolean;
}

/** Which page of history to read (`readPage`). */
export interface HistoryPageQuery {
  limit: number;
  after?: string;
  before?: string;
  newestFirst: boolean;
}

/** History bounds. Either of the first two at 0 turns history off. */
export interface HistoryOptions {
  /** Events kept per channel (default 1000). */
  maxLength: number;
  /** Seconds an event is kept (default 3600)... */
  ttlSeconds: number;
  /** ...except the newest N of a channel (default 0), kept while it is not idle longer than: */
  keepLast?: number;
  /** Seconds after a channel's last publish that those stay (default: `ttlSeconds`). */
  idleTtlSeconds?: number;
}

/** Whether these bounds keep anything. */
export function keepsHistory(options: HistoryOptions): boolean {
  return options.maxLength > 0 && options.ttlSeconds > 0;
}

/**
 * What a channel kept: the reads that resume a stream, the history API's pages, and
 * moderation. Written only by the broker's publish (appending and publishing are one atomic
 * step), so it is the broker's `history`; both implementations pass one contract suite
 * (`contract.test.ts`).
 */
export interface ChannelHistory {
  /**
   * Reads history after `position` (undefined: none, just the newest position), at most
   * `limit` events (default: all that history keeps). A page that comes back full may have
   * more after it: read again from its last id.
   */
  readSince(channel: string, position: string | undefined, limit?: number): Promise<Replay>;
  /**
   * The newest `count` events of a channel, oldest first, and its newest position: what a
   * stream that asks to rewind shows before going live.
   */
  readLatest(channel: string, count: number): Promise<Replay>;
  /**
   * One page of a channel's history for the history API: at most `limit` events strictly
   * after `after` and before `before` (either optional), newest first or oldest first.
   */
  readPage(channel: string, page: HistoryPageQuery): Promise<HistoryEntry[]>;
  /**
   * Deletes one event from history (moderation): reads and resumes skip it from now on.
   * Streams that had it live keep it. True when the id is in the channel's history.
   */
  deleteEvent(channel: string, id: string): Promise<boolean>;
  /**
   * What `readSince(channel, undefined)` would answer as `lastId`, when this process knows
   * it without I/O (the newest id seen on a confirmed subscription); else undefined and a
   * new stream reads it.
   */
  newestKnown(channel: string): string | undefined;
}
