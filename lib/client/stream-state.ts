/**
 * What a connection tells the page: its state and its events. Types and one constant, no
 * code: the page imports them without the connection itself (the transport, the parser and
 * the backoff are loaded only where streams are held).
 */

/** Where a connection stands. */
export type StreamStatus = "connecting" | "open" | "reconnecting" | "closed";

/** What a page can show about a connection. */
export interface StreamState {
  status: StreamStatus;
  /** Failed attempts in a row (0 once a stream is open). */
  attempt: number;
  /** When the next try starts (ms since the epoch), while waiting to reconnect. */
  retryAt: number | null;
  /** The id of the last event received: where a reconnect resumes. */
  lastEventId: string | null;
  /** The last error: the server's message, or what went wrong on the way. */
  error: string | null;
  /** The server's error code (`token_expired`, `too_many_streams`, …) when it gave one. */
  errorCode: string | null;
}

/** An event as a connection hands it on. */
export interface StreamEvent {
  /** The `event:` type; `message` when the server sent none. */
  type: string;
  data: string;
  /** The raw `id:` (on several channels it names them all), if the event had one. */
  id: string | undefined;
  /** The channel it came from. */
  channel: string;
  /** Its position in that channel (a history id), for de-duplication. */
  position: string | undefined;
  /** On `position` events: every channel's position (on several channels it names none). */
  positions?: Array<[string, string]>;
}

/** Supplies a token for a connection's channels (`null`: connect without one). */
export type GetToken = (channels: readonly string[]) => Promise<string | null> | string | null;

/** A connection before its first answer. */
export const CONNECTING_STATE: StreamState = Object.freeze({
  status: "connecting",
  attempt: 0,
  retryAt: null,
  lastEventId: null,
  error: null,
  errorCode: null,
});
