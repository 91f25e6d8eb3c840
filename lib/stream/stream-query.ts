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
  // One lookup per channel (this runs for every connect), and a Map only when they differ.
  let max = 0;
  let first = -1;
  let each: number[] | undefined;
  for (let i = 0; i < channels.length; i++) {
    const rules = catalog.rulesOf(channels[i]);
    const bound = rules.maxRewind ?? globalMax;
    const floor = rules.cache ? 1 : 0;
    max = Math.max(max, bound);
    const n = Math.min(Math.max(asked, floor), Math.max(bound, floor));
    if (i === 0) first = n;
    else if (each === undefined && n !== first) each = Array(i).fill(first);
    each?.push(n);
  }
  if (value !== null && value !== "" && (!/^\d+$/.test(value) || asked > max)) {
    throw new SseInputError("rewind", `rewind must be a whole number from 0 to ${max}`);
  }
  if (each === undefined) return Math.max(first, 0);
  return new Map(channels.map((channel, i) => [channel, (each as number[])[i]]));
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
