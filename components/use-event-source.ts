"use client";

import { useCallback, useEffect, useMemo, useRef, useSyncExternalStore } from "react";
import { type AppEvents, POSITION_EVENT, RESET_EVENT, type ResetData } from "@/lib/sse/events";
import { channelOfId } from "@/lib/sse/ids";

/** Connection state of an EventSource, as the hook reports it. */
export type EventSourceStatus = "connecting" | "open" | "reconnecting" | "closed";

/** What a handler learns besides the data. */
export interface EventMeta {
  type: string;
  /** The event's id (`MessageEvent.lastEventId`). */
  id: string;
  /** The channel it came from: named in the id on multi-channel streams, else the URL's. */
  channel: string | undefined;
  event: MessageEvent<string>;
}

type Handler<T> = (data: T, meta: EventMeta) => void;

/** Handlers per event type, typed by AppEvents; other types get `unknown` data. */
export type EventHandlers = { [K in keyof AppEvents]?: Handler<AppEvents[K]> } & Record<
  string,
  Handler<never> | undefined
>;

/** What to do with a stream's events. */
export interface EventSourceHandlers {
  /** Per event type (`message` for events without `event:`); data is parsed JSON or the string. */
  events?: EventHandlers;
  onOpen?: () => void;
  /** Called on every error: a failed connect, or a dropped connection before a retry. */
  onError?: (event: Event, status: EventSourceStatus) => void;
  /** History could not fill a gap on these channels: refetch their state. */
  onReset?: (data: ResetData) => void;
  /**
   * Show the last N events of each channel first (`?rewind=N`, at most SSE_MAX_REWIND): a
   * chat opens with its recent past. Reconnects resume instead (no event twice).
   */
  rewind?: number;
}

/** The stream URL with `rewind=N` when asked for (relative URLs stay relative). */
export function withRewind(url: string, rewind: number | undefined): string {
  if (!rewind) return url;
  const absolute = /^[a-z][a-z0-9+.-]*:/i.test(url);
  const parsed = new URL(url, "http://relative.invalid");
  parsed.searchParams.set("rewind", String(rewind));
  return absolute ? parsed.href : `${parsed.pathname}${parsed.search}`;
}

/** What the hook returns: the shared state, plus `reconnect`. */
export interface EventSourceResult extends EventSourceState {
  /** Drops the connection and resumes after the last event received. */
  reconnect: () => void;
}

/** The state of a stream; the same object for every component on the same URL. */
export interface EventSourceState {
  status: EventSourceStatus;
  /** Set when the browser gave up (the server refused the stream); cleared on open. */
  error: string | null;
  /** The id of the last event received, which the browser sends back on reconnect. */
  lastEventId: string | null;
  /** How many `reset` events arrived (gaps history could not fill). */
  resets: number;
}

/** Parses event data as JSON, falling back to the raw string. The one place data is parsed. */
export function parseEventData(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

type Subscriber = { current: EventSourceHandlers };

/**
 * One EventSource per URL, shared by every component that uses it: browsers allow about
 * six HTTP/1.1 connections per origin, so two panels on one stream must not cost two.
 */
class SharedSource {
  private source: EventSource | null = null;
  private readonly subscribers = new Set<Subscriber>();
  private readonly stateListeners = new Set<() => void>();
  private readonly types = new Set<string>();
  private closeTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly defaultChannel: string | undefined;
  state: EventSourceState = { status: "connecting", error: null, lastEventId: null, resets: 0 };

  constructor(private readonly url: string) {
    const channels = new URL(url, "http://x").searchParams.getAll("channel");
    this.defaultChannel =
      channels.length === 0 ? "sse" : channels.length === 1 ? channels[0] : undefined;
  }

  private setState(patch: Partial<EventSourceState>): void {
    this.state = { ...this.state, ...patch };
    for (const listener of this.stateListeners) listener();
  }

  subscribeState = (listener: () => void): (() => void) => {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  };

  add(subscriber: Subscriber): void {
    clearTimeout(this.closeTimer);
    if (!sources.has(this.url)) sources.set(this.url, this);
    this.subscribers.add(subscriber);
    if (this.source === null) this.open();
    this.listenFor(subscriber.current);
  }

  remove(subscriber: Subscriber): void {
    this.subscribers.delete(subscriber);
    if (this.subscribers.size > 0) return;
    // Deferred, so StrictMode's unmount-and-remount keeps the same connection.
    this.closeTimer = setTimeout(() => {
      if (this.subscribers.size > 0) return;
      this.source?.close();
      this.source = null;
      this.types.clear();
      sources.delete(this.url);
    }, 0);
  }

  /** Adds a DOM listener for any event type a subscriber handles that has none yet. */
  listenFor(handlers: EventSourceHandlers): void {
    const source = this.source;
    if (source === null) return;
    for (const type of Object.keys(handlers.events ?? {})) {
      if (this.types.has(type)) continue;
      this.types.add(type);
      source.addEventListener(type, (event: MessageEvent<string>) => this.dispatch(type, event));
    }
  }

  /**
   * Drops the connection and opens a new one that resumes after the last event received
   * (`?lastEventId=`, since a new EventSource cannot send the header).
   */
  reconnect(): void {
    if (this.subscribers.size === 0) return;
    this.source?.close();
    this.types.clear();
    this.open(this.state.lastEventId ?? undefined);
    for (const s of this.subscribers) this.listenFor(s.current);
  }

  private open(lastEventId?: string): void {
    let url = this.url;
    if (lastEventId) {
      const resumed = new URL(this.url, window.location.href);
      resumed.searchParams.set("lastEventId", lastEventId);
      url = resumed.pathname + resumed.search;
    }
    const source = new EventSource(url);
    this.source = source;
    this.setState({ status: "connecting", error: null });
    source.onopen = () => {
      this.setState({ status: "open", error: null });
      for (const s of this.subscribers) s.current.onOpen?.();
    };
    source.onerror = (event) => {
      // Leaving the page cuts every stream; that is not an error worth telling anyone about
      // (the quickstart's alert would even hold up the navigation).
      if (pageUnloading) return;
      const status = source.readyState === EventSource.CLOSED ? "closed" : "reconnecting";
      this.setState({
        status,
        error: status === "closed" ? `could not connect to ${this.url}` : this.state.error,
      });
      if (status === "closed") this.explainFailure();
      for (const s of this.subscribers) s.current.onError?.(event, status);
    };
    source.addEventListener(POSITION_EVENT, (event: MessageEvent<string>) => {
      if (event.lastEventId !== this.state.lastEventId) {
        this.setState({ lastEventId: event.lastEventId });
      }
    });
    source.addEventListener(RESET_EVENT, (event: MessageEvent<string>) => {
      this.setState({ resets: this.state.resets + 1 });
      const data = parseEventData(event.data) as ResetData;
      for (const s of this.subscribers) s.current.onReset?.(data);
    });
  }

  /**
   * EventSource hides why the server refused a stream. Ask once more with fetch and show
   * the server's JSON error message (e.g. "channel private-x is private: pass a token").
   */
  private explainFailure(): void {
    fetch(this.url, { headers: { Accept: "text/event-stream" }, credentials: "same-origin" })
      .then(async (response) => {
        if (response.ok) {
          await response.body?.cancel();
          return;
        }
        const body = (await response.json().catch(() => null)) as {
          error?: { message?: string };
        } | null;
        this.setState({ error: body?.error?.message ?? `HTTP ${response.status}` });
      })
      .catch(() => {});
  }

  private dispatch(type: string, event: MessageEvent<string>): void {
    if (event.lastEventId !== this.state.lastEventId) {
      this.setState({ lastEventId: event.lastEventId });
    }
    const data = parseEventData(event.data) as never;
    const meta: EventMeta = {
      type,
      id: event.lastEventId,
      channel: channelOfId(event.lastEventId) ?? this.defaultChannel,
      event,
    };
    for (const s of this.subscribers) s.current.events?.[type]?.(data, meta);
  }
}

const sources = new Map<string, SharedSource>();
let pageUnloading = false;
if (typeof window !== "undefined") {
  const onLeave = () => {
    pageUnloading = true;
  };
  window.addEventListener("beforeunload", onLeave);
  window.addEventListener("pagehide", onLeave);
  // Back/forward cache: the page comes back alive.
  window.addEventListener("pageshow", () => {
    pageUnloading = false;
  });
}
const CLOSED_STATE: EventSourceState = {
  status: "closed",
  error: null,
  lastEventId: null,
  resets: 0,
};
const CONNECTING_STATE: EventSourceState = { ...CLOSED_STATE, status: "connecting" };
const noop = () => () => {};

function sharedSource(url: string): SharedSource {
  let shared = sources.get(url);
  if (shared === undefined) {
    shared = new SharedSource(url);
    sources.set(url, shared);
  }
  return shared;
}

/**
 * Subscribes to a Server-Sent Events URL for as long as the component is mounted.
 * Components on the same URL share one EventSource, closed when the last one unmounts
 * (StrictMode's double mount included). Handlers live in a ref, so new functions on every
 * render do not reconnect. Pass `null` as the URL to stay disconnected.
 */
export function useEventSource(
  streamUrl: string | null,
  handlers: EventSourceHandlers,
): EventSourceResult {
  const url = streamUrl === null ? null : withRewind(streamUrl, handlers.rewind);
  const handlersRef = useRef(handlers);
  handlersRef.current = handlers;
  // Only in the browser: a server render must not register sources nobody will close.
  const shared = url === null || typeof window === "undefined" ? null : sharedSource(url);

  useEffect(() => {
    if (shared === null) return;
    const subscriber: Subscriber = handlersRef;
    shared.add(subscriber);
    return () => shared.remove(subscriber);
  }, [shared]);

  // Event types a later render adds get their listener on the same source.
  useEffect(() => {
    shared?.listenFor(handlers);
  });

  const state = useSyncExternalStore(
    shared?.subscribeState ?? noop,
    () => shared?.state ?? CLOSED_STATE,
    () => (url === null ? CLOSED_STATE : CONNECTING_STATE),
  );
  const reconnect = useCallback(() => shared?.reconnect(), [shared]);
  return useMemo(() => ({ ...state, reconnect }), [state, reconnect]);
}
