import "server-only";

/** Receives the encoded bytes of one event frame. Shared by every stream: never mutate. */
export type FrameListener = (frame: Uint8Array) => void;

/**
 * The transport between publishers and streams. Two implementations, Redis and in-memory,
 * pass the same contract suite (`contract.test.ts`).
 */
export interface Broker {
  readonly kind: "redis" | "memory";
  /** Sends one encoded frame to a channel; resolves to the number of receiving processes. */
  publish(channel: string, frame: Uint8Array): Promise<number>;
  /**
   * Adds a listener; resolves once the subscription is confirmed, so every frame published
   * afterwards reaches it. Rejects with BrokerUnavailableError if that takes too long; the
   * caller still removes the listener.
   */
  subscribe(channel: string, listener: FrameListener): Promise<void>;
  /** Removes a listener; the channel is unsubscribed when its last listener leaves. Idempotent. */
  unsubscribe(channel: string, listener: FrameListener): void;
  /** Listeners in this process, on one channel or on all. */
  listenerCount(channel?: string): number;
  /** Whether the broker can reach its backend now. */
  ping(): Promise<boolean>;
  /** Closes connections; for tests and shutdown. */
  close(): Promise<void>;
}

/** The broker could not publish or subscribe in time (Redis down or unreachable). */
export class BrokerUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "BrokerUnavailableError";
  }
}
