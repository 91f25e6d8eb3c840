import "server-only";

/**
 * Where instances report how many streams they hold per channel, so any instance can count
 * a channel's subscribers. Two implementations, Redis and in-memory, pass the same contract
 * suite (`contract.test.ts`). Separate from the broker, which is transport only.
 */
export interface PresenceStore {
  readonly kind: "redis" | "memory";
  /**
   * Records this instance's stream count per channel, valid for `ttlMs`, so a crashed
   * instance drops out when its entries expire. A count of 0 removes the entry.
   */
  report(instanceId: string, counts: ReadonlyMap<string, number>, ttlMs: number): Promise<void>;
  /** Streams on a channel across every instance that reported in time. */
  count(channel: string): Promise<number>;
}
