/**
 * Reserved event a stream with history sends once it is subscribed and caught up (and again
 * after a broker reconnect): no data, its id is the stream's position.
 */
export const POSITION_EVENT = "position";

/** The comment that says a stream ends on purpose (a deploy, a lifetime): reconnect. */
export const RECONNECT_COMMENT = "reconnect";

/** Reserved event a stream sends when history could not fill a gap: refetch your state. */
export const RESET_EVENT = "reset";

/** Data of the `reset` event. */
export interface ResetData {
  channels: string[];
}

/**
 * Reserved event the server sends just before it ends a stream for a reason the page can act
 * on, then the reconnect hint: `{"reason":"token_expired"}` means fetch a fresh token and reconnect
 * with it (the Last-Event-ID resumes without loss).
 */
export const END_EVENT = "end";

/** Data of the `end` event. */
export interface EndData {
  /**
   * `token_revoked`: the token can no longer open streams (`disconnect`); `unauthorized`:
   * the app's rule (a session, a cookie) now refuses, e.g. after a logout. The browser
   * client does not reconnect after `unauthorized` until the page asks again.
   */
  reason: "token_expired" | "token_revoked" | "unauthorized";
}

/**
 * Reserved event a stream opened with `?members=1` receives when a user (a token's `sub`)
 * joins or leaves one of its private channels: once per user across tabs and instances.
 */
export const MEMBERS_EVENT = "members";

/** A user on a private channel: a token's `sub`, and its `presence` claim when it had one. */
export interface ChannelMember {
  sub: string;
  /** The token's `presence` claim (a name, an avatar, ...). */
  info?: Record<string, unknown>;
}

/** Data of the `members` event. */
export interface MembersData extends ChannelMember {
  channel: string;
  action: "join" | "leave";
}

/**
 * Event types next-sse sends itself. Publishers may not use them: a forged `reset` or
 * `position` would make every client refetch its state or lose its place.
 */
export const RESERVED_EVENT_TYPES: ReadonlySet<string> = new Set([
  POSITION_EVENT,
  RESET_EVENT,
  END_EVENT,
  MEMBERS_EVENT,
]);
