import "server-only";
import {
  createServer,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type Server,
  type ServerResponse,
} from "node:http";
import { authorizedStreamChannels } from "@/lib/server/authorize";
import { getBroker } from "@/lib/server/broker";
import { corsHeaders, handlePreflight, withCors } from "@/lib/server/cors";
import { prepareEventStream, readLastEventId, type StreamSink } from "@/lib/server/event-stream";
import { healthResponse } from "@/lib/server/health";
import { errorResponse, jsonError, SSE_HEADERS } from "@/lib/server/http";
import { metricsResponse } from "@/lib/server/metrics";

// The same routes as the Next.js app, minus pages and publishing: behind a proxy that sends
// `/stream` here, the browser cannot tell the two apart.
const ROUTES = "/stream, /api/health and /api/metrics";

/**
 * A web Request with the Node request's URL, method and headers, for the authorize hook.
 * Without a signal: undici's signal following triples its cost; streams get the abort
 * signal directly.
 */
function toWebRequest(req: IncomingMessage): Request {
  const headers = new Headers();
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) headers.append(raw[i], raw[i + 1]);
  return new Request(new URL(req.url ?? "/", "http://stream-server"), {
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

async function send(res: ServerResponse, response: Response): Promise<void> {
  const body = Buffer.from(await response.arrayBuffer());
  const headers = headersOf(response);
  if (response.body !== null) headers["content-length"] = body.byteLength;
  res.writeHead(response.status, headers);
  res.end(body);
}

/**
 * Writes frames straight to the socket: no web stream between the broker and the kernel.
 * What the client leaves unread stays in the response's buffer, which is the backlog.
 */
function nodeSink(res: ServerResponse, maxBacklogBytes: number): StreamSink {
  return {
    write: (chunk) => {
      // The client may be gone before 'close' reached the stream: skip, do not throw.
      if (!res.destroyed) res.write(chunk);
    },
    overBacklog: () => res.writableLength > maxBacklogBytes,
    end: () => res.end(),
    destroy: () => res.destroy(),
  };
}

async function serveStream(
  req: IncomingMessage,
  res: ServerResponse,
  request: Request,
  signal: AbortSignal,
) {
  try {
    const channels = await authorizedStreamChannels(request);
    if (req.method === "HEAD") {
      await send(res, withCors(request, new Response(null, { headers: SSE_HEADERS })));
      return;
    }
    const lastEventId = readLastEventId(request);
    const opened = await prepareEventStream({ channels, lastEventId, signal });
    res.writeHead(200, { ...SSE_HEADERS, ...corsHeaders(request) });
    opened.attach(nodeSink(res, opened.maxBacklogBytes));
  } catch (error) {
    await send(res, withCors(request, errorResponse(error)));
  }
}

async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const abort = new AbortController();
  res.once("close", () => abort.abort());
  const request = toWebRequest(req);
  const { pathname } = new URL(request.url);
  const method = req.method ?? "GET";
  if (pathname === "/stream") {
    if (method === "OPTIONS") return send(res, handlePreflight(request, "GET, OPTIONS"));
    if (method === "GET" || method === "HEAD") return serveStream(req, res, request, abort.signal);
  } else if (pathname === "/api/health") {
    if (method === "GET") return send(res, await healthResponse());
  } else if (pathname === "/api/metrics") {
    if (method === "GET") return send(res, await metricsResponse(request));
  } else {
    return send(res, jsonError(404, "not_found", `this server answers ${ROUTES} only`));
  }
  return send(res, jsonError(405, "method_not_allowed", `${method} is not allowed on ${pathname}`));
}

/**
 * The optional plain Node stream server: `/stream` (with history, resume, access control,
 * CORS, heartbeats, limits and graceful shutdown), `/api/health` and `/api/metrics`, from
 * the same `lib/server` as the route handlers, without Next.js's request pipeline and web
 * streams. It needs Redis: pages and `publish()` stay on the Next.js server, which reaches
 * it through Redis. Put it behind the proxy that serves the app, for `/stream`.
 * @throws ConfigError for invalid settings, or when no Redis is configured.
 */
export function createStreamServer(): Server {
  // getBroker() validates the settings first.
  if (getBroker().kind !== "redis") {
    throw new Error(
      "the stream server gets its events from the Next.js server through Redis: set SSE_REDIS_URL (or SSE_REDIS_CLUSTER_NODES)",
    );
  }
  return createServer((req, res) => {
    route(req, res).catch((error: unknown) => {
      console.error("[next-sse] stream server:", error);
      if (!res.headersSent) res.writeHead(500, { "Content-Type": "application/json" });
      res.end(JSON.stringify({ error: { code: "internal", message: "internal error" } }));
    });
  });
}
