import "server-only";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { getConfig } from "@/lib/config";
import { singleton } from "@/lib/ops/singleton";
import { serveStreamRequest } from "@/lib/stream/handle-request";
import { drainStreams, ownShutdown } from "@/lib/stream/registry";
import { headReceived, takeConnection } from "@/lib/transport/http1/connection-intake";
import {
  type RequestHead,
  readNodeRequest,
  responseHead,
  toRequestLike,
} from "@/lib/transport/http1/http1";
import { closeSignal, writeNodeResponse, writeSocketResponse } from "@/lib/transport/sinks";

/**
 * What the production server (`server.ts`) reaches on `globalThis`: the Node adapter for
 * `/stream` and shutdown. Registered by `instrumentation.ts`, which Next.js bundles, so the
 * stream core, the broker and the registry exist once, in Next.js's module graph, shared
 * with route handlers and Server Actions; the server entry only routes to it.
 */
export interface NodeStreamAdapter {
  /** Serves `GET`/`HEAD`/`OPTIONS /stream` straight to the socket. */
  serve(req: IncomingMessage, res: ServerResponse): void;
  /**
   * Takes a new connection: a plain `/stream` request is read off the socket and served
   * here (see `http1.ts`); any other is handed to `toHttp` (Node's HTTP server) untouched.
   * A connection that sends nothing is closed after `headersTimeoutMs`, as Node's would be.
   */
  accept(socket: Socket, toHttp: (socket: Socket) => void, headersTimeoutMs: number): void;
  /**
   * Node's HTTP server read a request on `socket`. True when the request must not run: it
   * was pipelined behind a stream on the same connection (the socket then stops being read,
   * so nothing more behind it is parsed or kept).
   */
  received(socket: Socket): boolean;
  /** The server closes its listener on SIGTERM and drains: no handler of our own. */
  claimShutdown(): void;
  /** Ends every stream with a reconnect hint; resolves when none is left, or at the timeout. */
  drain(): Promise<void>;
}

/** Where the host is registered on `globalThis`. */
export const NODE_STREAM_ADAPTER = Symbol.for("next-sse.node-stream-adapter");

const streamSockets = () => singleton("stream-sockets", () => new WeakSet<Socket>());

/**
 * The Node adapter: parse, call the stream core, write. A `GET` is the connection's last
 * request (its answer is a stream that never ends, or an error that closes it): anything
 * pipelined behind it is not run (see `received`).
 */
function serve(req: IncomingMessage, res: ServerResponse): void {
  if (req.method === "GET") {
    streamSockets().add(req.socket);
    res.shouldKeepAlive = false;
  }
  serveStreamRequest(
    readNodeRequest(req),
    closeSignal(res),
    (result) => writeNodeResponse(res, result),
    () => {
      if (!res.headersSent) res.writeHead(500, { "Content-Type": "application/json" });
      res.end(INTERNAL_ERROR);
    },
  );
}

const INTERNAL_ERROR = JSON.stringify({ error: { code: "internal", message: "internal error" } });

/** The raw adapter: parse, call the stream core, write. */
function serveHead(socket: Socket, head: RequestHead): void {
  const peer = getConfig().trustProxy > 0 ? undefined : () => socket.remoteAddress;
  serveStreamRequest(
    toRequestLike(head, peer),
    closeSignal(socket),
    (result) => writeSocketResponse(socket, result, head.method === "HEAD"),
    () => {
      const type: [string, string] = ["Content-Type", "application/json"];
      const error = responseHead(500, [type], Buffer.byteLength(INTERNAL_ERROR)) + INTERNAL_ERROR;
      if (!socket.destroyed) socket.end(error);
    },
  );
}

/** Puts the Node stream adapter on `globalThis`, for the production server. */
export function registerNodeStreamAdapter(): void {
  const host: NodeStreamAdapter = {
    serve,
    accept: (socket, toHttp, headersTimeoutMs) =>
      takeConnection(socket, { toHttp, headersTimeoutMs, serveStream: serveHead }),
    received: (socket) => {
      headReceived(socket);
      if (!streamSockets().has(socket)) return false;
      // Stop reading: nothing more behind the stream is parsed or kept.
      socket.pause();
      return true;
    },
    claimShutdown: ownShutdown,
    drain: () => {
      const { shutdownTimeoutMs, drainSpreadMs } = getConfig();
      return drainStreams(shutdownTimeoutMs, drainSpreadMs);
    },
  };
  (globalThis as { [NODE_STREAM_ADAPTER]?: NodeStreamAdapter })[NODE_STREAM_ADAPTER] = host;
}
