import "server-only";
import type { ChannelHistory, HistoryOptions } from "@/lib/history/types";

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
  /**
   * Sent to the channel's listeners live, without an id, and never kept, history on or off:
   * a notice such as a member joining. `id` is then ignored.
   */
  transient?: boolean;
  /** The channel's history bounds, when it declares its own (default: the broker's). */
  retention?: HistoryOptions;
  /**
   * With history on: the history id to write the event under, for a channel with one
   * writer that numbers its own events (an AI answer: `<start ms>-<n>`). It must be above the
   * channel's newest id; the same id again is a duplicate (a write retried through an outage
   * is kept once). Cheaper than a publish with `id` (no script on Redis), and `id` is ignored.
   */
  at?: string;
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

/**
 * The transport between publishers and streams, and nothing else: what a channel kept is
 * its `history` (`lib/history`), presence has its own store (`lib/features/presence`). Two
 * implementations, Redis and in-memory, pass the same contract suite (`contract.test.ts`).
 */
export interface Broker {
  readonly kind: "redis" | "memory";
  /** What channels kept, so streams can resume; undefined when history is off. */
  readonly history: ChannelHistory | undefined;
  /**
   * Publishes one event to a channel. With history on, appending to history and publishing
   * are one atomic step: no live event is missing from history and vice versa. A
   * `transient` event is only sent live; it resolves once the backend took it.
   */
  publish(channel: string, event: OutgoingEvent): Promise<PublishResult>;
  /**
   * Adds a listener; resolves once the subscription is confirmed, so every event published
   * afterwards reaches it. Rejects with BrokerUnavailableError if that takes too long; the
   * caller still removes the listener. Undefined when the channel's subscription is
   * confirmed already: a busy channel's new streams cost no promise.
   */
  subscribe(channel: string, listener: FrameListener): Promise<void> | undefined;
  /** Removes a listener; the channel is unsubscribed when its last listener leaves. Idempotent. */
  unsubscribe(channel: string, listener: FrameListener): void;
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
