import type { StreamEvent, StreamState } from "@/lib/client/stream-state";

/**
 * The messages between the tabs of an origin (clients) and the one place that holds their
 * streams (the host: a SharedWorker, a leader tab, or the tab itself). Plain data, so they
 * cross `MessagePort` and `BroadcastChannel` as they are.
 */

/** Channels one component listens to, as the host groups them into streams. */
export interface WantedChannels {
  channels: string[];
  /** `?rewind=N` for channels the host does not carry yet. */
  rewind: number;
  /** The tab supplies tokens for these (they travel in their own stream). */
  auth: boolean;
  /**
   * An app-defined access group (e.g. `"session"` for channels a login cookie opens): its
   * channels travel in a stream of their own, so its refusal cuts no other channel.
   */
  access?: string;
}

export type ClientMessage =
  | {
      type: "subscribe";
      /** The stream endpoint, e.g. `/stream`. */
      url: string;
      wanted: WantedChannels[];
      /** The tab's positions, so a new host resumes where the tab stands. */
      positions: Array<[string, string]>;
      /** SSE_MAX_CHANNELS_PER_STREAM: past it, a second stream. */
      maxChannels: number;
    }
  | { type: "token"; requestId: number; token: string | null }
  | { type: "wake" }
  | { type: "reconnect"; url: string; channels: string[] }
  | { type: "bye" };

export type HostMessage =
  /** `channels`: the stream's, for events that name none (a `reset` on several). */
  | { type: "event"; url: string; channels: readonly string[]; event: StreamEvent }
  | { type: "state"; url: string; channels: readonly string[]; state: StreamState }
  | { type: "token?"; requestId: number; url: string; channels: readonly string[] }
  /** A new host: every tab sends its subscriptions again. */
  | { type: "hello" };

/** The lock each tab holds while it lives; a host learns a tab left when it gets it. */
export const CLIENT_LOCK_PREFIX = "next-sse-client-";
