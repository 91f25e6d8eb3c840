import { createParser, type EventSourceMessage } from "eventsource-parser";

export type ReceivedEvent = EventSourceMessage;

/** Events parsed from a byte stream by a spec-compliant parser, as a browser would see them. */
export interface ParsedStream {
  /** Every byte received so far, as text. */
  raw(): string;
  events: ReceivedEvent[];
  comments: string[];
  /** The last `retry:` the server sent. */
  retry: number | undefined;
  /** The last event id the stream set (what a browser would send as Last-Event-ID). */
  lastEventId: string | undefined;
  /** Resolves once `n` events have arrived (rejects after `timeoutMs`). */
  waitForEvents(n: number, timeoutMs?: number): Promise<ReceivedEvent[]>;
  /** Resolves when the stream ends (or fails). */
  ended: Promise<void>;
}

// An id-only block (`id: x\n\n`) sets the browser's last event id without an event;
// eventsource-parser reports no event for it, so we follow the raw `id:` lines ourselves.
const ID_LINE = /(?:^|\n)id: ?([^\n]*)\n/g;

/** Parses a text/event-stream body. */
export function parseEventStream(body: ReadableStream<Uint8Array>): ParsedStream {
  let raw = "";
  const waiters = new Set<() => void>();
  const parsed: ParsedStream = {
    raw: () => raw,
    events: [],
    comments: [],
    retry: undefined,
    lastEventId: undefined,
    waitForEvents(n, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (parsed.events.length < n) return false;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(parsed.events);
          return true;
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(
            new Error(
              `expected ${n} events within ${timeoutMs} ms, got ${parsed.events.length}:\n${raw.slice(-2000)}`,
            ),
          );
        }, timeoutMs);
        if (!check()) waiters.add(check);
      });
    },
    ended: Promise.resolve(),
  };
  const parser = createParser({
    onEvent(event) {
      // The stream's `position` event is control, not content: it only moves lastEventId.
      if (event.event === "position") return;
      parsed.events.push(event);
      for (const check of [...waiters]) check();
    },
    onRetry(ms) {
      parsed.retry = ms;
    },
    onComment(comment) {
      parsed.comments.push(comment);
    },
  });
  const text = body.pipeThrough(new TextDecoderStream() as TransformStream<Uint8Array, string>);
  // Only the text after the last complete block is scanned again, so long streams stay linear.
  let tail = "";
  parsed.ended = (async () => {
    try {
      for await (const chunk of text) {
        raw += chunk;
        tail += chunk;
        const cut = tail.lastIndexOf("\n\n");
        if (cut >= 0) {
          for (const match of `\n${tail.slice(0, cut + 1)}`.matchAll(ID_LINE)) {
            parsed.lastEventId = match[1];
          }
          tail = tail.slice(cut + 2);
        }
        parser.feed(chunk);
      }
    } catch {
      // aborted or errored: the stream is over either way
    }
  })();
  return parsed;
}

/** An open stream read over real HTTP. */
export interface TestStream extends ParsedStream {
  response: Response;
  close(): void;
}

/**
 * Opens `url` like an EventSource would (Accept: text/event-stream) and parses the body.
 * Resolves when the response headers arrive; for non-2xx answers the body is left unread.
 */
export async function openStream(
  url: string,
  headers: Record<string, string> = {},
): Promise<TestStream> {
  const abort = new AbortController();
  const response = await fetch(url, {
    headers: { Accept: "text/event-stream", ...headers },
    signal: abort.signal,
  });
  const close = () => abort.abort();
  if (response.ok && response.body) {
    return Object.assign(parseEventStream(response.body), { response, close });
  }
  const empty = parseEventStream(new ReadableStream({ start: (c) => c.close() }));
  return Object.assign(empty, { response, close });
}
