import "server-only";
import { isPrivateChannel } from "@/lib/access/authorize";
import { getBroker } from "@/lib/broker";
import { getCatalog } from "@/lib/catalog";
import { ChannelReports } from "@/lib/features/channel-reports";
import { getPresenceStore } from "@/lib/features/presence";
import type { Member, MemberChange } from "@/lib/features/presence/types";
import { createLogger } from "@/lib/ops/log";
import { singleton } from "@/lib/ops/singleton";
import { MEMBERS_EVENT, type MembersData } from "@/lib/sse/events";
import { encodeEventBody, SseInputError } from "@/lib/sse/frame";
import { instanceId, isDraining } from "@/lib/stream/registry";

/**
 * Members of private channels: the users (token `sub`s) holding streams, across instances.
 * Each instance reports its users per channel (debounced, refreshed, expiring like stream
 * counts); the store answers who joined or left across every instance, and the instance
 * that reported it sends a `members` event on the channel's members channel, which streams
 * opened with `?members=1` listen to. A user with two tabs, on one instance or two, joins
 * once and leaves with the last. Public channels have no members: their readers stay
 * anonymous.
 */

export type { Member } from "@/lib/features/presence/types";

// As stream counts: entries live 30 s and are refreshed every 10 s, so the users of a crashed
// instance leave within 30 s (told by the next instance that reports the channel); changes
// are reported together, 100 ms after they happen.
const MEMBERS_TTL_MS = 30_000;
const MEMBERS_REFRESH_MS = 10_000;
const MEMBERS_DEBOUNCE_MS = 100;

interface LocalMember {
  streams: number;
  info: Member["info"];
}

interface MembersState {
  /** channel -> sub -> this process's streams of that user. Maps: both are client input. */
  local: Map<string, Map<string, LocalMember>>;
  /** channel -> streams here that follow its members events (`?members=1`). */
  watched: Map<string, number>;
  reports: ChannelReports;
  /** Reports run one after another, so their events go out in the order they happened. */
  chain: Promise<void>;
  log: ReturnType<typeof createLogger>;
}

const state = (): MembersState =>
  singleton<MembersState>("members", () => ({
    local: new Map(),
    watched: new Map(),
    reports: new ChannelReports({
      debounceMs: MEMBERS_DEBOUNCE_MS,
      refreshMs: MEMBERS_REFRESH_MS,
      // This instance's users again (their entries expire), and watched channels.
      refreshed: () => {
        const { local, watched } = state();
        return [...local.keys(), ...watched.keys()];
      },
      report,
      // A server shutting down tells no one: its users reconnect elsewhere within the
      // entries' 30 s and neither leave nor join again; those who do not leave at expiry.
      paused: isDraining,
    }),
    chain: Promise.resolve(),
    log: createLogger(),
  }));

/**
 * The internal channel a private channel's `members` events travel on. `/` is not allowed
 * in channel names, so no client can subscribe or publish to it directly.
 */
export function membersChannel(channel: string): string {
  return `members/${channel}`;
}

/**
 * Counts one stream of user `sub` on private `channels` in; returns the function that
 * counts it out (idempotent).
 */
export function joinMembers(
  channels: readonly string[],
  sub: string,
  info: Member["info"],
): () => void {
  change(channels, sub, info, 1);
  let left = false;
  return () => {
    if (left) return;
    left = true;
    change(channels, sub, info, -1);
  };
}

/**
 * Counts a stream that follows the members events of `channels` in; returns the function
 * that counts it out (idempotent). While one does, this instance reports those channels
 * every 10 s even without users of its own, so the users of a crashed instance are seen to
 * leave (the report prunes expired entries) wherever someone is watching.
 */
export function watchMembers(channels: readonly string[]): () => void {
  const s = state();
  const count = (delta: 1 | -1) => {
    for (const channel of channels) {
      const watchers = (s.watched.get(channel) ?? 0) + delta;
      if (watchers > 0) s.watched.set(channel, watchers);
      else s.watched.delete(channel);
    }
  };
  count(1);
  s.reports.keepRefreshing();
  let stopped = false;
  return () => {
    if (stopped) return;
    stopped = true;
    count(-1);
  };
}

/** Whether a channel's users are kept as members: private, and not declared `members: false`. */
export function keepsMembers(channel: string): boolean {
  return isPrivateChannel(channel) && getCatalog().rulesOf(channel).members;
}

/**
 * The users on a private channel across every instance, by `sub`, with their `presence`
 * info.
 * @throws SseInputError for a public channel (400): its readers stay anonymous.
 * @throws BrokerUnavailableError when Redis does not answer in time.
 */
export async function listMembers(channel: string): Promise<Member[]> {
  if (!isPrivateChannel(channel)) {
    throw new SseInputError(
      "channel",
      "members are kept for private channels only: a public channel's readers stay anonymous",
    );
  }
  if (!keepsMembers(channel)) {
    throw new SseInputError("channel", `members are off for channel ${channel} (lib/channels.ts)`);
  }
  return await getPresenceStore().listMembers(channel);
}

function change(
  channels: readonly string[],
  sub: string,
  info: Member["info"],
  delta: 1 | -1,
): void {
  const s = state();
  for (const channel of channels) {
    let users = s.local.get(channel);
    if (users === undefined) {
      users = new Map();
      s.local.set(channel, users);
    }
    const user = users.get(sub) ?? { streams: 0, info };
    user.streams += delta;
    if (user.streams > 0) users.set(sub, user);
    else users.delete(sub);
    if (users.size === 0) s.local.delete(channel);
  }
  s.reports.changed(channels);
}

/** Reports this process's users of `channels`, then sends the joins and leaves it caused. */
function report(channels: Iterable<string>): void {
  const s = state();
  for (const channel of channels) {
    s.chain = s.chain.then(async () => {
      const users = new Map<string, Member["info"]>();
      for (const [sub, user] of s.local.get(channel) ?? []) users.set(sub, user.info);
      let changes: MemberChange[];
      try {
        changes = await getPresenceStore().reportMembers(
          instanceId(),
          channel,
          users,
          MEMBERS_TTL_MS,
        );
      } catch {
        // Redis is down: the next refresh reports again. (The channel stays out of logs:
        // private channels' names are private.)
        s.reports.retry([channel]);
        return;
      }
      try {
        for (const change of changes) await announce(channel, change);
      } catch {
        // Recorded but not told: pages read the list again when their stream reopens.
        s.log.warn("a members event could not be sent (Redis unavailable)");
      }
    });
  }
}

function announce(channel: string, { action, sub, info }: MemberChange): Promise<void> {
  const data: MembersData =
    info === undefined ? { channel, action, sub } : { channel, action, sub, info };
  const body = encodeEventBody({ type: MEMBERS_EVENT, data });
  return getBroker()
    .publish(membersChannel(channel), { body, transient: true })
    .then(() => {});
}
