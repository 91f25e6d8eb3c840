import "server-only";
import type { OutgoingHttpHeaders, ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { responseHead } from "@/lib/transport/http1/http1";

/**
 * Where a stream's bytes go. Three implementations side by side: a web `ReadableStream`
 * (route handlers), and for the production server, straight to the socket, a raw socket
 * (its fast path) or a Node `ServerResponse`. All report what the client has left unread,
 * which is the stream's backlog.
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

/**
 * Tells the stream its client left: an `AbortSignal` (a route handler's `request.signal`),
 * or the production server's lighter one over the response's `close`.
 */
export interface StreamSignal {
  readonly aborted: boolean;
  addEventListener(type: "abort", listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: "abort", listener: () => void): void;
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
 * A `StreamSignal` that aborts when the response (or the raw socket) closes: the client
 * left, or the stream ended.
 */
export function closeSignal(res: {
  once(event: "close", listener: () => void): unknown;
}): StreamSignal {
  const listeners: Array<() => void> = [];
  const signal = {
    aborted: false,
    addEventListener: (_type: "abort", listener: () => void) => {
      // As an AbortSignal: a listener added after the abort is never called.
      if (!signal.aborted) listeners.push(listener);
    },
    removeEventListener: (_type: "abort", listener: () => void) => {
      const at = listeners.indexOf(listener);
      if (at >= 0) listeners.splice(at, 1);
    },
  };
  res.once("close", () => {
    signal.aborted = true;
    for (const listener of listeners.splice(0)) listener();
  });
  return signal;
}

async function writeNodePlainResponse(res: ServerResponse, result: Response): Promise<void> {
  const body = Buffer.from(await result.arrayBuffer());
  const headers = headersOf(result);
  if (result.body !== null) headers["content-length"] = body.byteLength;
  res.writeHead(result.status, headers);
  res.end(body);
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
export function writeNodeResponse(res: ServerResponse, result: StreamResult): Promise<void> | void {
  // A stream is written without a promise: this runs for every connection.
  if (result instanceof Response) return writeNodePlainResponse(res, result);
  if (res.destroyed) {
    result.cancel();
    return;
  }
  // No chunked framing: the body runs until the connection closes (RFC 9112 6.3), which an
  // event stream does anyway when it ends. The first write goes through the response, so the
  // headers leave with the first frames in one packet; later frames go to the socket as they
  // are: one buffer per write instead of three (size line, frame, CRLF), and none of the
  // response object's per-write bookkeeping.
  res.useChunkedEncodingByDefault = false;
  res.writeHead(200, result.headers);
  const socket = res.socket;
  if (socket !== null) {
    result.open(new ResponseSink(socket, res));
    return;
  }
  // Pipelined behind a response still being written (a page, on a kept-alive connection):
  // Node hands this response the socket once that one is done. Until then the stream's
  // events wait in its outbox; a connection that closes first ends it.
  const connection = res.req.socket;
  const gone = () => result.cancel();
  connection.once("close", gone);
  res.once("socket", (assigned: Socket) => {
    connection.removeListener("close", gone);
    result.open(new ResponseSink(assigned, res));
  });
}

/**
 * Answers on a raw socket (the production server's fast path, see `http1.ts`): the same as
 * `writeNodeResponse` with the response head written by hand, in the same buffer as the
 * first frames. The connection closes after the answer.
 */
export function writeSocketResponse(
  socket: Socket,
  result: StreamResult,
  head = false,
): Promise<void> | void {
  if (result instanceof Response) return writeSocketPlainResponse(socket, result, head);
  if (socket.destroyed) {
    result.cancel();
    return;
  }
  result.open(new SocketSink(socket, responseHead(200, Object.entries(result.headers))));
}

/** A stream on a raw socket: one object per stream (a class, not six closures). */
class SocketSink implements Sink {
  readonly kind = "node";

  constructor(
    protected readonly socket: Socket,
    /** The response head until the first write sends it (not kept for the stream's life). */
    private head: string | undefined,
  ) {}

  write(chunk: Uint8Array): void {
    // The client may be gone before 'close' reached the stream: skip, do not throw.
    if (this.socket.destroyed) return;
    const { head } = this;
    if (head === undefined) {
      this.socket.write(chunk);
      return;
    }
    this.head = undefined;
    this.writeFirst(chunk, head);
  }

  /** Head and first frames in one buffer: one write, one packet. */
  protected writeFirst(chunk: Uint8Array, head: string): void {
    const first = Buffer.allocUnsafe(head.length + chunk.byteLength);
    first.write(head, 0, "latin1");
    first.set(chunk, head.length);
    this.socket.write(first);
  }

  unreadBytes(): number {
    return this.socket.writableLength;
  }

  onDrain(callback: () => void): void {
    this.socket.once("drain", callback);
  }

  end(): void {
    this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/**
 * A stream on a Node response's socket: the response writes its head with the first frames
 * and ends the stream; every other frame goes to the socket as it is.
 */
class ResponseSink extends SocketSink {
  constructor(
    socket: Socket,
    private readonly res: ServerResponse,
  ) {
    super(socket, ""); // the response writes the head
  }

  protected override writeFirst(chunk: Uint8Array): void {
    this.res.write(chunk);
  }

  override end(): void {
    this.res.end();
  }

  override destroy(): void {
    this.res.destroy();
  }
}

/**
 * A plain response on the raw socket. The answer to HEAD has the headers GET's would have
 * (its Content-Length too) and no body, or a client reading it would take the body for the
 * next response (RFC 9110 9.3.2).
 */
async function writeSocketPlainResponse(
  socket: Socket,
  result: Response,
  isHead: boolean,
): Promise<void> {
  const body = Buffer.from(await result.arrayBuffer());
  const head = responseHead(
    result.status,
    result.headers,
    result.body === null ? undefined : body.byteLength,
  );
  if (socket.destroyed) return;
  socket.end(
    isHead ? Buffer.from(head, "latin1") : Buffer.concat([Buffer.from(head, "latin1"), body]),
  );
}
