"use client";

import {
  useCallback,
  useEffect,
  useEffectEvent,
  useMemo,
  useState,
  useSyncExternalStore,
} from "react";
import type { AppEvents } from "@/lib/catalog/app";
import type { StreamHub, StreamListener } from "@/lib/client/hub";
import {
  CONNECTING_STATE,
  type GetToken,
  type StreamEvent,
  type StreamState,
  type StreamStatus,
} from "@/lib/client/stream-state";
import { getTabClient } from "@/lib/client/tab";
import { DEFAULT_CHANNEL, DEFAULT_MAX_CHANNELS_PER_STREAM } from "@/lib/sse/channel";
import { POSITION_EVENT, RESET_EVENT, type ResetData } from "@/lib/sse/events";
import { decodeLastEventId } from "@/lib/sse/ids";

/** Connection state of a stream, as the hook reports it. */
export type EventSourceStatus = StreamStatus;

/** What a handler learns besides the data. */
export interface EventMeta {
  type: string;
  /** The event's id (empty when it had none). */
  id: string;
  /** The channel it came from. */
  channel: string | undefined;
  /** The raw event: its type, its data as sent, and its id. */
  event: { type: string; data: string; lastEventId: string };
}

type Handler<T> = (data: T, meta: EventMeta) => void;

/** Handlers per event type, typed by the declared ones (`lib/channels.ts`); others get `unknown` data. */
export type EventHandlers = { [K in keyof AppEvents]?: Handler<AppEvents[K]> } & Record<
  string,
  Handler<never> | undefined
>;

/** What to do with a stream's events. */
export interface EventSourceHandlers {
  /** Per event type (`message` for events without `event:`); data is parsed JSON or the string. */
  events?: EventHandlers;
  /** The stream opened (again). */
  onOpen?: () => void;
  /**
   * Once per outage, not once per retry: the stream failed (`reconnecting`: the client keeps
   * trying) or was refused for good (`closed`). `error` is the server's message when it
   * gave one.
   */
  onError?: (error: string, status: EventSourceStatus) => void;
  /** History could not fill a gap on these channels: refetch their state. */
  onReset?: (data: ResetData) => void;
  /**
   * Show the last N events of each channel first (`?rewind=N`, at most SSE_MAX_REWIND): a
   * chat opens with its recent past. Reconnects resume instead (no event twice).
   */
  rewind?: number;
  /**
   * Start exactly after this position: the `position` a Server Component got from
   * `readLatest` with the events it rendered. The page then goes live with nothing missed and
   * nothing twice, whether it opens its own stream or joins the one this browser already
   * has. A multi-channel id (or a plain id, for every channel) from an earlier stream works
   * too. If history no longer reaches back that far, `onReset` says so. Also read from the
   * URL's `?lastEventId=`.
   */
  after?: string | null;
  /**
   * Supplies a token for private channels, called before each connect with the channels
   * the stream carries, and again once when the server refuses or expires the token. It
   * travels in an `Authorization` header, never in the URL. Return null for none.
   */
  getToken?: GetToken;
  /** SSE_MAX_CHANNELS_PER_STREAM, if the server's is not the default 16. */
  maxChannelsPerStream?: number;
  /**
   * The access these channels need, when an app rule of yours gates them (e.g. `"session"`
   * for channels a login cookie opens): they then travel in a stream of their own, apart
   * from public ones. Without it they share the public stream, and a refusal is still split
   * off (the refused channels found, reported here only, the rest resumed at once).
   */
  access?: string;
}

/** What the hook returns: the stream's state, plus `reconnect`. */
export interface EventSourceResult extends EventSourceState {
  /** Drops the connection and resumes after the last event received. */
  reconnect: () => void;
}

/** The state of the stream carrying a component's channels. */
export interface EventSourceState {
  status: EventSourceStatus;
  /** The last error (the server's message when it gave one); cleared on open. */
  error: string | null;
  /** The server's error code (`login_required`, `token_expired`, `unauthorized`, …). */
  errorCode: string | null;
  /** The id of the last event received, which a reconnect resumes after. */
  lastEventId: string | null;
  /** How many `reset` events arrived (gaps history could not fill). */
  resets: number;
  /** Failed attempts in a row; 0 while open. */
  attempt: number;
  /** When the next try starts (ms since the epoch), while reconnecting. */
  retryAt: number | null;
}

/** Parses event data as JSON, falling back to the raw string. The one place data is parsed. */
export function parseEventData(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

/** A hook's URL taken apart: the endpoint the tab shares, and what this hook asks of it. */
export interface StreamRequest {
  /** The endpoint without channel, rewind and token (`/stream`). */
  endpoint: string;
  channels: string[];
  rewind: number;
  /** `?lastEventId=`: where the hook starts (see `after`). */
  after: string | null;
  /** `?token=` in the URL (still read; prefer `getToken`). */
  token: string | null;
}

/** Reads `/stream?channel=a&channel=b[&rewind=N][&token=T]`; no channel means `sse`. */
export function parseStreamUrl(url: string): StreamRequest {
  const absolute = /^[a-z][a-z0-9+.-]*:/i.test(url);
  const parsed = new URL(url, "http://relative.invalid");
  const params = parsed.searchParams;
  const channels = params.getAll("channel");
  const rewind = Number(params.get("rewind") ?? 0) || 0;
  const token = params.get("token");
  const after = params.get("lastEventId") || null;
  for (const name of ["channel", "rewind", "token", "lastEventId"]) params.delete(name);
  const rest = params.size > 0 ? `?${params}` : "";
  return {
    endpoint: absolute ? `${parsed.origin}${parsed.pathname}${rest}` : `${parsed.pathname}${rest}`,
    channels: channels.length === 0 ? [DEFAULT_CHANNEL] : [...new Set(channels)],
    rewind,
    after,
    token,
  };
}

const CLOSED: StreamState = { ...CONNECTING_STATE, status: "closed" };
const noSubscription = () => () => {};

/**
 * Subscribes to channels for as long as the component is mounted. Every component of every
 * tab shares one stream per set of channels the server allows on one (see
 * `lib/client/tab.ts`); the stream reconnects through restarts, outages, limits and network
 * loss, and resumes after the last event, so no event is lost or shown twice. Handlers are
 * read when an event comes (`useEffectEvent`), so new functions on every render do not
 * reconnect. Nothing is opened during a render or on the server. `null` stays disconnected.
 */
export function useEventSource(
  streamUrl: string | null,
  handlers: EventSourceHandlers,
): EventSourceResult {
  const request = useMemo(() => {
    if (streamUrl === null) return null;
    const parsed = parseStreamUrl(streamUrl);
    const after = handlers.after ?? parsed.after;
    return {
      ...parsed,
      rewind: handlers.rewind ?? parsed.rewind,
      after: after ? (decodeLastEventId(after, parsed.channels) ?? null) : null,
    };
  }, [streamUrl, handlers.rewind, handlers.after]);
  const channelsKey = request?.channels.join("\n") ?? "";
  const endpoint = request?.endpoint ?? null;
  const maxChannels = handlers.maxChannelsPerStream ?? DEFAULT_MAX_CHANNELS_PER_STREAM;
  // The tab's client (a SharedWorker, locks, page listeners) is made after a commit, in the
  // browser only: never during a render, never on the server.
  const [hub, setHub] = useState<StreamHub | null>(null);
  useEffect(() => {
    if (endpoint === null) {
      setHub(null);
      return;
    }
    watchPageUnload();
    setHub(getTabClient().hub(endpoint, maxChannels));
  }, [endpoint, maxChannels]);
  const [resets, setResets] = useState(0);
  const [stateCallbacks] = useState(() => new Set<() => void>());
  const withToken = handlers.getToken !== undefined || request?.token != null;
  // The latest handlers, read when an event comes (not during a render): new functions on
  // every render do not reconnect.
  const onEvent = useEffectEvent((event: StreamEvent) =>
    dispatch(event, handlers, () => setResets((n) => n + 1)),
  );
  const onOpen = useEffectEvent(() => handlers.onOpen?.());
  const onError = useEffectEvent((error: string, status: EventSourceStatus) =>
    handlers.onError?.(error, status),
  );
  const getToken = useEffectEvent((channels: readonly string[]) => handlers.getToken?.(channels));
  const access = handlers.access;

  // biome-ignore lint/correctness/useExhaustiveDependencies: channelsKey stands for request.channels
  useEffect(() => {
    if (hub === null || request === null) return;
    let previous = hub.stateOf(request.channels);
    let inOutage = false;
    const staticToken = request.token;
    const listener: StreamListener = {
      channels: request.channels,
      rewind: request.rewind,
      after: request.after ?? undefined,
      access,
      getToken: withToken ? (channels) => getToken(channels) ?? staticToken : undefined,
      onEvent: (event) => onEvent(event),
      onState: () => {
        const state = hub.stateOf(request.channels);
        if (state === previous) return;
        const wasOpen = previous.status === "open";
        previous = state;
        for (const callback of stateCallbacks) callback();
        if (state.status === "open") {
          inOutage = false;
          if (!wasOpen) onOpen();
          return;
        }
        // A clean end (a deploy) reconnects with no error: not an outage.
        if (state.error === null || inOutage || pageUnloading()) return;
        inOutage = true;
        onError(state.error, state.status);
      },
    };
    return hub.subscribe(listener);
  }, [hub, channelsKey, request?.rewind, withToken, request?.token, access]);

  const subscribeState = useCallback(
    (callback: () => void) => {
      stateCallbacks.add(callback);
      return () => stateCallbacks.delete(callback);
    },
    [stateCallbacks],
  );
  const state = useSyncExternalStore(
    hub === null ? noSubscription : subscribeState,
    () =>
      request === null ? CLOSED : hub === null ? CONNECTING_STATE : hub.stateOf(request.channels),
    () => (request === null ? CLOSED : CONNECTING_STATE),
  );
  const reconnect = useCallback(() => {
    if (hub !== null && request !== null) hub.reconnect(request.channels);
  }, [hub, request]);
  return useMemo(
    () => ({
      status: state.status,
      error: state.error,
      errorCode: state.errorCode,
      lastEventId: state.lastEventId,
      attempt: state.attempt,
      retryAt: state.retryAt,
      resets,
      reconnect,
    }),
    [state, resets, reconnect],
  );
}

/** Hands an event to the component's handler for its type. */
function dispatch(event: StreamEvent, handlers: EventSourceHandlers, countReset: () => void): void {
  if (event.type === POSITION_EVENT) return;
  if (event.type === RESET_EVENT) {
    countReset();
    handlers.onReset?.(parseEventData(event.data) as ResetData);
    return;
  }
  const handler = handlers.events?.[event.type];
  if (handler === undefined) return;
  const id = event.id ?? "";
  (handler as Handler<unknown>)(parseEventData(event.data), {
    type: event.type,
    id,
    channel: event.channel || undefined,
    event: { type: event.type, data: event.data, lastEventId: id },
  });
}

/**
 * Leaving the page cuts a tab's own streams; that is not an outage worth telling anyone
 * about (the quickstart's alert would even hold up the navigation).
 */
function pageUnloading(): boolean {
  return (globalThis as { [UNLOADING]?: boolean })[UNLOADING] === true;
}
const UNLOADING = Symbol.for("next-sse.page-unloading");
const WATCHING_UNLOAD = Symbol.for("next-sse.page-unload-watched");

/** Notes when the page is being left, once per page, from the first stream's effect. */
function watchPageUnload(): void {
  const page = globalThis as { [UNLOADING]?: boolean; [WATCHING_UNLOAD]?: boolean };
  if (page[WATCHING_UNLOAD]) return;
  page[WATCHING_UNLOAD] = true;
  const mark = (value: boolean) => () => {
    page[UNLOADING] = value;
  };
  window.addEventListener("beforeunload", mark(true));
  window.addEventListener("pagehide", mark(true));
  window.addEventListener("pageshow", mark(false));
}
