import "server-only";
import type { PresenceStore } from "@/lib/server/presence/types";

/** Presence inside one process, for the in-memory broker: the same expiry rules as Redis. */
export class MemoryPresenceStore implements PresenceStore {
  readonly kind = "memory";
  /** channel -> instance -> { count, expiresAt } */
  private readonly entries = new Map<string, Map<string, { count: number; expiresAt: number }>>();

  async report(
    instanceId: string,
    counts: ReadonlyMap<string, number>,
    ttlMs: number,
  ): Promise<void> {
    const expiresAt = Date.now() + ttlMs;
    for (const [channel, count] of counts) {
      let instances = this.entries.get(channel);
      if (count > 0) {
        if (instances === undefined) {
          instances = new Map();
          this.entries.set(channel, instances);
        }
        instances.set(instanceId, { count, expiresAt });
      } else if (instances !== undefined) {
        instances.delete(instanceId);
        if (instances.size === 0) this.entries.delete(channel);
      }
    }
  }

  async count(channel: string): Promise<number> {
    const now = Date.now();
    let total = 0;
    for (const { count, expiresAt } of this.entries.get(channel)?.values() ?? []) {
      if (expiresAt > now) total += count;
    }
    return total;
  }
}
