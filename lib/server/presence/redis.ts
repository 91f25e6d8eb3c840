import "server-only";
import type { Cluster, Redis } from "ioredis";
import type { RedisNames } from "@/lib/server/broker/redis-scripts";
import { withTimeout } from "@/lib/server/broker/with-timeout";
import type { PresenceStore } from "@/lib/server/presence/types";

/**
 * Presence in Redis: one hash per channel (`<prefix>presence:{channel}`), instance id ->
 * `count:expiresAtMs`, the key itself expiring with the newest entry. It uses the broker's
 * command connection: no extra connection per process.
 */
export class RedisPresenceStore implements PresenceStore {
  readonly kind = "redis";

  constructor(
    private readonly client: () => Redis | Cluster,
    private readonly names: RedisNames,
    private readonly timeoutMs = 3000,
  ) {}

  async report(
    instanceId: string,
    counts: ReadonlyMap<string, number>,
    ttlMs: number,
  ): Promise<void> {
    const expiresAt = Date.now() + ttlMs;
    const client = this.client();
    // One command per key (not a pipeline): on a cluster each channel lives in its own slot.
    const writes = [...counts].map(([channel, count]) => {
      const key = this.names.presence(channel);
      return count > 0
        ? Promise.all([
            client.hset(key, instanceId, `${count}:${expiresAt}`),
            client.pexpire(key, ttlMs),
          ])
        : client.hdel(key, instanceId);
    });
    await withTimeout("presence report", this.timeoutMs, Promise.all(writes));
  }

  async count(channel: string): Promise<number> {
    const entries = await withTimeout(
      "presence read",
      this.timeoutMs,
      this.client().hgetall(this.names.presence(channel)),
    );
    const now = Date.now();
    let total = 0;
    for (const value of Object.values(entries)) {
      const [count, expiresAt] = value.split(":").map(Number);
      if (expiresAt > now) total += count;
    }
    return total;
  }
}
