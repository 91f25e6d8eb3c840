"use client";

import { useEffect, useRef, useState } from "react";

/** Connection state of an EventSource, as the hook reports it. */
export type EventSourceStatus = "connecting" | "open" | "reconnecting" | "closed";

/** Handlers per event type (`message` for events without `event:`), plus lifecycle hooks. */
export interface EventSourceHandlers {
  /** Called with the event's data parsed as JSON (or the raw string when it is not JSON). */
  events?: Record<string, (data: unknown, event: MessageEvent<string>) => void>;
  onOpen?: () => void;
  /** Called on every error: a failed connect, or a dropped connection before a retry. */
  onError?: (event: Event, status: EventSourceStatus) => void;
}

/** What the hook returns. */
export interface EventSourceState {
  status: EventSourceStatus;
  /** Set when the browser gave up (the server refused the stream); cleared on open. */
  error: string | null;
  /** The id of the last event received, which the browser sends back on reconnect. */
  lastEventId: string | null;
}

/** Parses event data as JSON, falling back to the raw string. The one place data is parsed. */
export function parseEventData(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

/**
 * Subscribes to a Server-Sent Events URL for as long as the component is mounted: one
 * EventSource per mount, closed on unmount (StrictMode's double mount included). Handlers
 * live in a ref, so passing new functions on every render does not reconnect. Pass
 * `null` as the URL to stay disconnected.
 */
export function useEventSource(
  url: string | null,
  handlers: EventSourceHandlers,
): EventSourceState {
  const handlersRef = useRef(handlers);
  handlersRef.current = handlers;
  const [state, setState] = useState<EventSourceState>({
    status: url ? "connecting" : "closed",
    error: null,
    lastEventId: null,
  });
  const sourceRef = useRef<EventSource | null>(null);
  const typesRef = useRef(new Set<string>());

  useEffect(() => {
    if (url === null) {
      setState((s) => ({ ...s, status: "closed" }));
      return;
    }
    const source = new EventSource(url);
    sourceRef.current = source;
    const types = new Set<string>();
    typesRef.current = types;
    setState({ status: "connecting", error: null, lastEventId: null });

    source.onopen = () => {
      setState((s) => ({ ...s, status: "open", error: null }));
      handlersRef.current.onOpen?.();
    };
    source.onerror = (event) => {
      const status = source.readyState === EventSource.CLOSED ? "closed" : "reconnecting";
      setState((s) => ({
        ...s,
        status,
        error: status === "closed" ? `could not connect to ${url}` : s.error,
      }));
      handlersRef.current.onError?.(event, status);
    };
    for (const type of Object.keys(handlersRef.current.events ?? {})) {
      listen(source, types, type, handlersRef, setState);
    }
    return () => {
      source.close();
      sourceRef.current = null;
    };
  }, [url]);

  // Handlers for event types added after connecting get their listener on the same source.
  useEffect(() => {
    const source = sourceRef.current;
    if (source === null) return;
    for (const type of Object.keys(handlers.events ?? {})) {
      listen(source, typesRef.current, type, handlersRef, setState);
    }
  });

  return state;
}

function listen(
  source: EventSource,
  types: Set<string>,
  type: string,
  handlersRef: { current: EventSourceHandlers },
  setState: (update: (s: EventSourceState) => EventSourceState) => void,
): void {
  if (types.has(type)) return;
  types.add(type);
  source.addEventListener(type, (event: MessageEvent<string>) => {
    setState((s) =>
      s.lastEventId === event.lastEventId ? s : { ...s, lastEventId: event.lastEventId },
    );
    handlersRef.current.events?.[type]?.(parseEventData(event.data), event);
  });
}
