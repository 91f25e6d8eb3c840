import "server-only";
import { getBroker } from "@/lib/broker";
import type { RedisBroker } from "@/lib/broker/redis";
import { getConfig } from "@/lib/config";
import { MemoryPresenceStore } from "@/lib/features/presence/memory";
import { RedisPresenceStore } from "@/lib/features/presence/redis";
import type { PresenceStore } from "@/lib/features/presence/types";
import { singleton } from "@/lib/ops/singleton";

export type { PresenceStore } from "@/lib/features/presence/types";

/** The process's presence store: in Redis beside the Redis broker, else in memory. */
export function getPresenceStore(): PresenceStore {
  return singleton("presence-store", () => {
    const broker = getBroker();
    // By `kind`, not `instanceof`: the broker may come from another bundle's copy of the class.
    return broker.kind === "redis"
      ? new RedisPresenceStore(
          () => (broker as RedisBroker).commandClient(),
          (broker as RedisBroker).names,
          getConfig().redisTimeoutMs,
        )
      : new MemoryPresenceStore();
  });
}

/**
 * Subscribers of a channel across every instance (each reports its counts with an expiry).
 * @throws BrokerUnavailableError when Redis does not answer in time.
 */
export function countSubscribers(channel: string): Promise<number> {
  return getPresenceStore().count(channel);
}
