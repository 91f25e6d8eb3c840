import "server-only";
import type { Member, MemberChange, PresenceStore } from "@/lib/features/presence/types";

interface InstanceMembers {
  expiresAt: number;
  members: ReadonlyMap<string, Member["info"]>;
}

/** Presence inside one process, for the in-memory broker: the same expiry rules as Redis. */
export class MemoryPresenceStore implements PresenceStore {
  readonly kind = "memory";
  /** channel -> instance -> { count, expiresAt } */
  private readonly entries = new Map<string, Map<string, { count: number; expiresAt: number }>>();
  /** channel -> instance -> its members */
  private readonly members = new Map<string, Map<string, InstanceMembers>>();

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

  async reportMembers(
    instanceId: string,
    channel: string,
    members: ReadonlyMap<string, Member["info"]>,
    ttlMs: number,
  ): Promise<MemberChange[]> {
    const now = Date.now();
    const instances = this.members.get(channel) ?? new Map<string, InstanceMembers>();
    // An expired entry's users were members until now: they leave with it.
    const before = liveMembers(instances, Number.NEGATIVE_INFINITY);
    for (const [id, entry] of instances) if (entry.expiresAt <= now) instances.delete(id);
    if (members.size > 0) {
      instances.set(instanceId, { expiresAt: now + ttlMs, members: new Map(members) });
    } else instances.delete(instanceId);
    if (instances.size > 0) this.members.set(channel, instances);
    else this.members.delete(channel);
    const after = liveMembers(instances, now);
    const changes: MemberChange[] = [];
    for (const [sub, info] of after) if (!before.has(sub)) changes.push(change("join", sub, info));
    for (const [sub, info] of before) if (!after.has(sub)) changes.push(change("leave", sub, info));
    return changes;
  }

  async listMembers(channel: string): Promise<Member[]> {
    const live = liveMembers(this.members.get(channel) ?? new Map(), Date.now());
    return [...live]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([sub, info]) => (info === undefined ? { sub } : { sub, info }));
  }
}

/** The members of every instance whose entry expires after `now`, one per `sub`. */
function liveMembers(
  instances: ReadonlyMap<string, InstanceMembers>,
  now: number,
): Map<string, Member["info"]> {
  const out = new Map<string, Member["info"]>();
  for (const { expiresAt, members } of instances.values()) {
    if (expiresAt <= now) continue;
    for (const [sub, info] of members) if (!out.has(sub)) out.set(sub, info);
  }
  return out;
}

function change(action: MemberChange["action"], sub: string, info: Member["info"]): MemberChange {
  return info === undefined ? { action, sub } : { action, sub, info };
}
