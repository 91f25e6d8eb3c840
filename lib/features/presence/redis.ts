import "server-only";
import type { Cluster, Redis } from "ioredis";
import { withTimeout } from "@/lib/broker/with-timeout";
import type { Member, MemberChange, PresenceStore } from "@/lib/features/presence/types";
import type { RedisNames } from "@/lib/redis/names";

/**
 * Replaces one instance's members of a channel and answers the joins and leaves across
 * every instance, atomically (one key: one slot on a cluster).
 * KEYS[1] the channel's members hash: instance id -> {"e": expiresAtMs, "m": [[sub, info]]}
 * (info: the `presence` claim as JSON, or "").
 * ARGV[1] instance id, ARGV[2] now (ms), ARGV[3] ttl (ms), ARGV[4] JSON [[sub, info]].
 * Returns a flat list: action ("join" | "leave"), sub, info, ...
 */
const REPORT_MEMBERS_SCRIPT = `
local now = tonumber(ARGV[2])
local ttl = tonumber(ARGV[3])
local before, after = {}, {}
local fields = redis.call('HGETALL', KEYS[1])
for i = 1, #fields, 2 do
  local entry = cjson.decode(fields[i + 1])
  local live = entry.e > now
  for _, m in ipairs(entry.m) do
    -- An expired entry's users were members until now: they leave with it.
    before[m[1]] = before[m[1]] or m[2]
    if live and fields[i] ~= ARGV[1] then after[m[1]] = after[m[1]] or m[2] end
  end
  if not live then redis.call('HDEL', KEYS[1], fields[i]) end
end
local mine = cjson.decode(ARGV[4])
if #mine > 0 then
  redis.call('HSET', KEYS[1], ARGV[1], cjson.encode({ e = now + ttl, m = mine }))
  for _, m in ipairs(mine) do after[m[1]] = after[m[1]] or m[2] end
else
  redis.call('HDEL', KEYS[1], ARGV[1])
end
if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('PEXPIRE', KEYS[1], ttl) end
local changes = {}
for sub, info in pairs(after) do
  if not before[sub] then
    table.insert(changes, 'join'); table.insert(changes, sub); table.insert(changes, info)
  end
end
for sub, info in pairs(before) do
  if not after[sub] then
    table.insert(changes, 'leave'); table.insert(changes, sub); table.insert(changes, info)
  end
end
return changes
`;

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

  async reportMembers(
    instanceId: string,
    channel: string,
    members: ReadonlyMap<string, Member["info"]>,
    ttlMs: number,
  ): Promise<MemberChange[]> {
    const mine = [...members].map(([sub, info]) => [
      sub,
      info === undefined ? "" : JSON.stringify(info),
    ]);
    const reply = (await withTimeout(
      "members report",
      this.timeoutMs,
      this.client().eval(
        REPORT_MEMBERS_SCRIPT,
        1,
        this.names.members(channel),
        instanceId,
        Date.now(),
        ttlMs,
        JSON.stringify(mine),
      ),
    )) as string[];
    const changes: MemberChange[] = [];
    for (let i = 0; i < reply.length; i += 3) {
      changes.push(
        withInfo({ action: reply[i] as MemberChange["action"], sub: reply[i + 1] }, reply[i + 2]),
      );
    }
    return changes;
  }

  async listMembers(channel: string): Promise<Member[]> {
    const entries = await withTimeout(
      "members read",
      this.timeoutMs,
      this.client().hgetall(this.names.members(channel)),
    );
    const now = Date.now();
    const members = new Map<string, string>();
    for (const value of Object.values(entries)) {
      const entry = JSON.parse(value) as { e: number; m: Array<[string, string]> };
      if (entry.e <= now) continue;
      for (const [sub, info] of entry.m) if (!members.has(sub)) members.set(sub, info);
    }
    return [...members]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([sub, info]) => withInfo({ sub }, info));
  }
}

/** `member` with its info, read back from JSON ("" when it had none). */
function withInfo<T extends Member>(member: T, info: string): T {
  return info === "" ? member : { ...member, info: JSON.parse(info) as Member["info"] };
}
