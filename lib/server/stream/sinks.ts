import "server-only";
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from "node:http";

/**
 * Where a stream's bytes go. Two implementations side by side: a web `ReadableStream`
 * (route handlers) and a Node `ServerResponse` (the production server, straight to the
 * socket). Both report what the client has left unread, which is the stream's backlog.
 */
export interface Sink {
  /** For health: how many streams each server path holds. */
  readonly kind: SinkKind;
  write(chunk: Uint8Array): void;
  /** Bytes written but not yet taken by the client. */
  unreadBytes(): number;
  /** Calls back once when the client has taken some of what is unread. */
  onDrain(callback: () => void): void;
  end(): void;
  /** Ends abruptly (a slow consumer): the client sees the connection drop and resumes. */
  destroy(): void;
}

/** A web stream (route handlers) or a Node response (the production server). */
export type SinkKind = "node" | "web";

/** An accepted stream request: the 200's headers, and `open` to start writing to a sink. */
export interface OpenStream {
  readonly headers: Readonly<Record<string, string>>;
  /** Starts writing: the first bytes, then what was replayed, then live events. */
  open(sink: Sink): void;
  /** The client left before a sink was attached: release the stream. */
  cancel(): void;
  /** Bytes the client may leave unread before it is dropped (SSE_MAX_BACKLOG_BYTES). */
  readonly maxBacklogBytes: number;
}

/** What `handleStreamRequest` answers: an error (or HEAD/OPTIONS) response, or a stream. */
export type StreamResult = Response | OpenStream;

/**
 * A route handler's response: the stream as a web `ReadableStream` whose queue is the
 * backlog. Cancelling it (the client left) closes the stream.
 */
export function toWebResponse(result: StreamResult): Response {
  if (result instanceof Response) return result;
  const { maxBacklogBytes } = result;
  // The consumer pulls when it has taken bytes: that is the web stream's "drain".
  let drained: Array<() => void> = [];
  const body = new ReadableStream<Uint8Array>(
    {
      pull: () => {
        const callbacks = drained;
        drained = [];
        for (const callback of callbacks) callback();
      },
      start: (controller) =>
        result.open({
          kind: "web",
          write: (chunk) => controller.enqueue(chunk),
          unreadBytes: () => maxBacklogBytes - (controller.desiredSize ?? 0),
          onDrain: (callback) => drained.push(callback),
          end: () => controller.close(),
          destroy: () => controller.error(new Error("slow consumer: backlog limit exceeded")),
        }),
      cancel: () => result.cancel(),
    },
    { highWaterMark: maxBacklogBytes, size: (chunk) => chunk.byteLength },
  );
  return new Response(body, { headers: result.headers });
}

/**
 * A web `Request` with a Node request's URL, method and headers, for `handleStreamRequest`.
 * Without a body or signal: undici's signal following triples its cost, and the stream gets
 * the response's close as its abort signal instead.
 */
export function toWebRequest(req: IncomingMessage): Request {
  const headers = new Headers();
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) headers.append(raw[i], raw[i + 1]);
  // The production server may have replaced the client's X-Forwarded-For (see server.ts).
  const forwarded = req.headers["x-forwarded-for"];
  if (typeof forwarded === "string") headers.set("x-forwarded-for", forwarded);
  // The host is not read (only the path and query are), so a hostile Host header cannot
  // make the URL invalid.
  return new Request(new URL(req.url ?? "/", "http://localhost"), {
    method: req.method,
    headers,
  });
}

function headersOf(response: Response): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  response.headers.forEach((value, name) => {
    out[name] = value;
  });
  return out;
}

/**
 * Answers on a Node response: a plain response as it is, a stream by writing frames straight
 * to the socket, with no web stream between the broker and the kernel. What the client
 * leaves unread stays in the response's buffer, which is the backlog.
 */
export async function writeNodeResponse(res: ServerResponse, result: StreamResult): Promise<void> {
  if (result instanceof Response) {
    const body = Buffer.from(await result.arrayBuffer());
    const headers = headersOf(result);
    if (result.body !== null) headers["content-length"] = body.byteLength;
    res.writeHead(result.status, headers);
    res.end(body);
    return;
  }
  if (res.destroyed) {
    result.cancel();
    return;
  }
  // No chunked framing: the body runs until the connection closes (RFC 9112 6.3), which an
  // event stream does anyway when it ends. The first write goes through the response, so the
  // headers leave with the first frames in one packet; later frames go to the socket as they
  // are: one buffer per write instead of three (size line, frame, CRLF), and none of the
  // response object's per-write bookkeeping, which together were most of a write's cost.
  res.useChunkedEncodingByDefault = false;
  res.writeHead(200, result.headers);
  const socket = res.socket;
  if (socket === null) {
    result.cancel();
    return;
  }
  let first = true;
  result.open({
    kind: "node",
    write: (chunk) => {
      // The client may be gone before 'close' reached the stream: skip, do not throw.
      if (socket.destroyed) return;
      if (first) {
        first = false;
        res.write(chunk);
      } else socket.write(chunk);
    },
    unreadBytes: () => socket.writableLength,
    onDrain: (callback) => socket.once("drain", callback),
    end: () => res.end(),
    destroy: () => res.destroy(),
  });
}
