import "server-only";
import { isPrivateChannel } from "@/lib/access/authorize";
import { membersChannel } from "@/lib/features/members";
import type { RequestLike } from "@/lib/http";
import { SseInputError } from "@/lib/sse/frame";

// The options of a stream request besides its channels (`?channel=`, read by authorize).

/**
 * `?rewind=N`: the last N events of each channel the client has no position in, before live
 * ones (0 by default, at most SSE_MAX_REWIND).
 * @throws SseInputError for anything but a whole number from 0 to `max` (400).
 */
export function readRewind(query: URLSearchParams, max: number): number {
  const value = query.get("rewind");
  if (value === null || value === "") return 0;
  const rewind = Number(value);
  if (!/^\d+$/.test(value) || rewind > max) {
    throw new SseInputError("rewind", `rewind must be a whole number from 0 to ${max}`);
  }
  return rewind;
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
  return locked.map(membersChannel);
}

/** Where a request resumes from: the `Last-Event-ID` header, else `?lastEventId=`. */
export function readLastEventId(request: RequestLike, query: URLSearchParams): string | null {
  return request.headers.get("last-event-id") ?? query.get("lastEventId");
}
