import "server-only";
import type { IncomingMessage, ServerResponse } from "node:http";
import { getConfig } from "@/lib/server/config";
import { handleStreamRequest } from "@/lib/server/stream/handle-request";
import { drainStreams, ownShutdown } from "@/lib/server/stream/registry";
import { closeSignal, readNodeRequest, writeNodeResponse } from "@/lib/server/stream/sinks";

/**
 * What the production server (`server.ts`) reaches on `globalThis`: the Node adapter for
 * `/stream` and shutdown. Registered by `instrumentation.ts`, which Next.js bundles, so the
 * stream core, the broker and the registry exist once, in Next.js's module graph, shared
 * with route handlers and Server Actions; the server entry only routes to it.
 */
export interface NodeStreamHost {
  /** Serves `GET`/`HEAD`/`OPTIONS /stream` straight to the socket. */
  serve(req: IncomingMessage, res: ServerResponse): Promise<void>;
  /** The server closes its listener on SIGTERM and drains: no handler of our own. */
  claimShutdown(): void;
  /** Ends every stream with a reconnect hint; resolves when none is left, or at the timeout. */
  drain(): Promise<void>;
}

/** Where the host is registered on `globalThis`. */
export const NODE_STREAM_HOST = Symbol.for("next-sse.node-stream-host");

/** The Node adapter: parse, call the stream core, write. */
async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const signal = closeSignal(res);
  try {
    const written = writeNodeResponse(res, await handleStreamRequest(readNodeRequest(req), signal));
    if (written !== undefined) await written; // a plain response; a stream is written at once
  } catch (error) {
    console.error("[next-sse] /stream failed:", error);
    if (!res.headersSent) res.writeHead(500, { "Content-Type": "application/json" });
    res.end(JSON.stringify({ error: { code: "internal", message: "internal error" } }));
  }
}

/** Puts the Node stream host on `globalThis`, for the production server. */
export function registerNodeStreamHost(): void {
  const host: NodeStreamHost = {
    serve,
    claimShutdown: ownShutdown,
    drain: () => drainStreams(getConfig().shutdownTimeoutMs),
  };
  (globalThis as { [NODE_STREAM_HOST]?: NodeStreamHost })[NODE_STREAM_HOST] = host;
}
