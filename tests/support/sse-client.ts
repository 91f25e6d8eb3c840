import { createParser, type EventSourceMessage } from "eventsource-parser";

export type ReceivedEvent = EventSourceMessage;

/** An open stream read over real HTTP and parsed by a spec-compliant parser. */
export interface TestStream {
  response: Response;
  /** Every byte received so far, as text. */
  raw(): string;
  events: ReceivedEvent[];
  comments: string[];
  /** The last `retry:` the server sent. */
  retry: number | undefined;
  /** Resolves once `n` events have arrived (rejects after `timeoutMs`). */
  waitForEvents(n: number, timeoutMs?: number): Promise<ReceivedEvent[]>;
  /** Resolves when the server ends the stream. */
  ended: Promise<void>;
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
  let raw = "";
  const waiters = new Set<() => void>();
  const stream: TestStream = {
    response,
    raw: () => raw,
    events: [],
    comments: [],
    retry: undefined,
    waitForEvents(n, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (stream.events.length < n) return false;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(stream.events);
          return true;
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(
            new Error(
              `expected ${n} events within ${timeoutMs} ms, got ${stream.events.length}:\n${raw}`,
            ),
          );
        }, timeoutMs);
        if (!check()) waiters.add(check);
      });
    },
    ended: Promise.resolve(),
    close: () => abort.abort(),
  };
  const parser = createParser({
    onEvent(event) {
      stream.events.push(event);
      for (const check of [...waiters]) check();
    },
    onRetry(ms) {
      stream.retry = ms;
    },
    onComment(comment) {
      stream.comments.push(comment);
    },
  });
  if (response.ok && response.body) {
    const body = response.body.pipeThrough(new TextDecoderStream());
    stream.ended = (async () => {
      try {
        for await (const text of body) {
          raw += text;
          parser.feed(text);
        }
      } catch {
        // aborted by close()
      }
    })();
  }
  return stream;
}
