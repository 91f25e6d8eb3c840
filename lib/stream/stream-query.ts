import "server-only";
import { isPrivateChannel } from "@/lib/access/authorize";
import { getCatalog } from "@/lib/catalog";
import { keepsMembers, membersChannel } from "@/lib/features/members";
import type { RequestLike } from "@/lib/http";
import { SseInputError } from "@/lib/sse/frame";
import type { Rewind } from "@/lib/stream/session";

// The options of a stream request besides its channels (`?channel=`, read by authorize).

/**
 * `?rewind=N`: the last N events of each channel the client has no position in, before live
 * ones (0 by default, at most SSE_MAX_REWIND, or a channel's own `maxRewind`), and at least
 * the newest one on a channel in cache mode. One number when every channel gets the same,
 * else one per channel.
 * @throws SseInputError for anything but a whole number from 0 to the largest bound (400).
 */
export function readRewind(
  query: URLSearchParams,
  channels: readonly string[],
  globalMax: number,
): Rewind {
  const value = query.get("rewind");
  const asked = value === null || value === "" ? 0 : Number(value);
  const catalog = getCatalog();
  const bound = (channel: string) => catalog.rulesOf(channel).maxRewind ?? globalMax;
  if (value !== null && value !== "") {
    const max = Math.max(...channels.map(bound));
    if (!/^\d+$/.test(value) || asked > max) {
      throw new SseInputError("rewind", `rewind must be a whole number from 0 to ${max}`);
    }
  }
  let first: number | undefined;
  let same = true;
  const each = channels.map((channel) => {
    const floor = catalog.rulesOf(channel).cache ? 1 : 0;
    const n = Math.min(Math.max(asked, floor), Math.max(bound(channel), floor));
    if (first === undefined) first = n;
    else if (n !== first) same = false;
    return n;
  });
  return same ? (first ?? 0) : new Map(channels.map((channel, i) => [channel, each[i]]));
}

/**
 * `?members=1`: the stream also gets `members` events (join/leave) of its private channels.
 * Returns the members channels to listen to.
 * @throws SseInputError for a value other than 0/1/true/false, or no private channel (400).
 */
export function readMembers(query: URLSearchParams, channels: readonly string[]): string[] {
  const value = query.get("members");
  if (value === null || value === "" || value === "0" || value === "false") return [];
  if (value !== "1" && value !== "true") {
    throw new SseInputError("members", "members must be 1 or 0");
  }
  const locked = channels.filter(isPrivateChannel);
  if (locked.length === 0) {
    throw new SseInputError(
      "members",
      "members events are for private channels only: a public channel's readers stay anonymous",
    );
  }
  const kept = locked.filter(keepsMembers);
  if (kept.length === 0) {
    throw new SseInputError(
      "members",
      `members are off for channel ${locked[0]} (lib/channels.ts)`,
    );
  }
  return kept.map(membersChannel);
}

/** Where a request resumes from: the `Last-Event-ID` header, else `?lastEventId=`. */
export function readLastEventId(request: RequestLike, query: URLSearchParams): string | null {
  return request.headers.get("last-event-id") ?? query.get("lastEventId");
}
