import "server-only";

/**
 * Receives one live event: its frame bytes (shared by every stream: never mutate), its
 * history id when it has one (the frame then ends with `id: <id>\n\n`), and its channel.
 */
export type FrameListener = (frame: Uint8Array, id: string | undefined, channel: string) => void;

/** An event to publish: its encoded fields (see `encodeEventBody`) and the publisher's id. */
export interface OutgoingEvent {
  body: string;
  /**
   * With history off, the event's `id:` (Flask-SSE's meaning). With history on, an
   * idempotency key: a second publish with the same key on the same channel, within the
   * history TTL, is not delivered again and resolves to the first one's result.
   */
  id?: string;
}

/** What a publish did. */
export interface PublishResult {
  /** The id on the wire: the history position with history on, else the publisher's id. */
  id: string | undefined;
  /** Server processes that received the event (Redis PUBLISH semantics); 0 for a duplicate. */
  receivers: number;
  /** True when the idempotency key was seen before and nothing was delivered. */
  duplicate: boolean;
}

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

/**
 * The transport between publishers and streams, and nothing else (presence has its own
 * store, `lib/features/presence`). Two implementations, Redis and in-memory,
 * pass the same contract suite (`contract.test.ts`).
 */
export interface Broker {
  readonly kind: "redis" | "memory";
  /** Whether events are kept, so streams can resume. */
  readonly history: boolean;
  /**
   * Publishes one event to a channel. With history on, appending to history and publishing
   * are one atomic step: no live event is missing from history and vice versa.
   */
  publish(channel: string, event: OutgoingEvent): Promise<PublishResult>;
  /**
   * Sends an event (encoded fields, see `encodeEventBody`) to the channel's listeners
   * without keeping it, history on or off: a live notice such as a member joining, which
   * streams forward without an id. Resolves once the backend took it.
   */
  notify(channel: string, body: string): Promise<void>;
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
   * Adds a listener; resolves once the subscription is confirmed, so every event published
   * afterwards reaches it. Rejects with BrokerUnavailableError if that takes too long; the
   * caller still removes the listener. Undefined when the channel's subscription is
   * confirmed already: a busy channel's new streams cost no promise.
   */
  subscribe(channel: string, listener: FrameListener): Promise<void> | undefined;
  /**
   * What `readSince(channel, undefined)` would answer as `lastId`, when this process knows
   * it without I/O (the newest id seen on a confirmed subscription, history on); else
   * undefined and a new stream reads it.
   */
  newestKnown(channel: string): string | undefined;
  /** Removes a listener; the channel is unsubscribed when its last listener leaves. Idempotent. */
  unsubscribe(channel: string, listener: FrameListener): void;
  /** Listeners in this process, on one channel or on all. */
  listenerCount(channel?: string): number;
  /**
   * Calls back with `lost` as soon as subscriptions may be missing events (a connection
   * dropped, a shard moved, a probe did not come back): streams then hold live events and
   * keep their positions, so that what arrives once subscriptions are back cannot move them
   * past the gap. Then `restored`, once every subscription is confirmed again: streams catch
   * up from history and release what they held. Every `lost` is followed by a `restored`;
   * a callback registered while subscriptions are lost hears `lost` at once. Returns an
   * unregister function.
   */
  onRecover(callback: (phase: RecoveryPhase) => void): () => void;
  /** Whether the broker can reach its backend now. */
  ping(): Promise<boolean>;
  /** Closes connections; for tests and shutdown. */
  close(): Promise<void>;
}

/**
 * The broker could not publish or subscribe in time (Redis down or unreachable). Recognised
 * by its `code`, not `instanceof`, so it crosses module graphs.
 */
export class BrokerUnavailableError extends Error {
  readonly code = "broker_unavailable";
  /** What failed (`publish`, `subscribe`, `history read`, ...): a publish's outcome is unknown. */
  readonly operation: string | undefined;
  constructor(message: string, options?: { cause?: unknown; operation?: string }) {
    super(message, options);
    this.name = "BrokerUnavailableError";
    this.operation = options?.operation;
  }
}

/** See `Broker.onRecover`. */
export type RecoveryPhase = "lost" | "restored";

/** Whether an error is a BrokerUnavailableError, from any copy of this module. */
export function isBrokerUnavailable(error: unknown): error is BrokerUnavailableError {
  return (error as { code?: unknown } | null)?.code === "broker_unavailable";
}
