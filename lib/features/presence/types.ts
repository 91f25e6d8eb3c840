import "server-only";
import type { ChannelMember } from "@/lib/sse/events";

/** A user on a private channel: a token's `sub`, with its `presence` claim when it had one. */
export type Member = ChannelMember;

/** A user whose first stream on a channel opened (anywhere), or whose last one closed. */
export interface MemberChange extends Member {
  action: "join" | "leave";
}

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
  /**
   * Replaces this instance's members of a private channel (`sub` -> info; empty: none),
   * valid for `ttlMs`, and answers who joined or left the channel across every instance
   * because of it: a user another instance still holds neither joins nor leaves, and the
   * members of instances whose entries expired (crashed) leave. Atomic across instances.
   */
  reportMembers(
    instanceId: string,
    channel: string,
    members: ReadonlyMap<string, Member["info"]>,
    ttlMs: number,
  ): Promise<MemberChange[]>;
  /** The users on a channel across every instance that reported in time, by `sub`. */
  listMembers(channel: string): Promise<Member[]>;
}
