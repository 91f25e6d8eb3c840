/**
 * The production server, `npm start` (and `npm run dev` with `--dev`): one Node process, one
 * port. `GET`/`HEAD`/`OPTIONS /stream` go to next-sse's Node stream adapter, which writes
 * frames straight to the socket; every other request goes to Next.js's own request handler
 * (`next()` + `getRequestHandler()`, the documented custom-server API). The stream adapter is
 * registered by `instrumentation.ts`, inside Next.js's bundle, so routes, Server Actions and
 * streams share one broker and one registry. With SSE_WORKERS above 1, `node:cluster` runs
 * that many processes on the same port, each an instance coordinated through Redis.
 *
 * Compiled by `npm run build` (scripts/build-server.mjs) to `dist/server.js` and to the
 * self-contained `.next/standalone/server.js`; no TypeScript loader at run time.
 */
import cluster from "node:cluster";
import { existsSync, readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import next from "next";
import { FORWARDING_HEADERS, untrustedForwarding } from "@/lib/access/client-address";
import { getCatalog } from "@/lib/catalog";
import { getConfig, type SseConfig, warnAboutUnknownSettings } from "@/lib/config";
import { noticeRestartOnlyEdits } from "@/lib/config/dev-notices";
import { loadEnvFiles } from "@/lib/config/env-files";
import type { NodeStreamAdapter } from "@/lib/transport/node-adapter";

// The same key as NODE_STREAM_ADAPTER in lib/transport/node-adapter.ts (importing it would
// bundle a second copy of the stream core into this file).
const NODE_STREAM_ADAPTER = Symbol.for("next-sse.node-stream-adapter");
const STREAM_PATH = "/stream";
const STREAM_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);
// A burst of reconnects (after a deploy, or a Redis failover) overflows Node's default
// accept backlog of 511; each dropped SYN costs a client a 1 s retransmit, then 3 s.
const LISTEN_BACKLOG = 4096;

const dev = process.argv.includes("--dev");
// `dist/server.js` serves the app one folder up; `.next/standalone/server.js` its own folder.
const dir = existsSync(join(__dirname, ".next")) ? __dirname : join(__dirname, "..");

/**
 * The env files first (as `next start` would load them, but before `next()`: the settings
 * decide how this process serves), then the settings and the channel declarations. Any of
 * them failing stops the server.
 */
function readSettings(): SseConfig {
  try {
    const files = loadEnvFiles(dir, dev);
    if (cluster.isPrimary && files.length > 0) {
      console.info(`[next-sse] settings from ${files.map((file) => file.path).join(", ")}`);
    }
    const config = getConfig();
    // The app's channel declarations (`lib/channels.ts`): a bad one stops the server here.
    getCatalog().check();
    return config;
  } catch (error) {
    console.error(`[next-sse] ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
}

function streamAdapter(): NodeStreamAdapter | undefined {
  return (globalThis as { [NODE_STREAM_ADAPTER]?: NodeStreamAdapter })[NODE_STREAM_ADAPTER];
}

/**
 * Answers what Next.js would turn into a 500 with a stack in the log: TRACE/CONNECT (405) and
 * an absolute-form target that is not a URL (400). An absolute-form URL that parses is
 * reduced to its path. Without SSE_TRUST_PROXY, `X-Forwarded-For` is the socket's address
 * and the client's own `X-Forwarded-Host`/`-Proto` are dropped, so a client can neither
 * choose the address limits count it under nor the origin Server Actions check. True when
 * answered.
 */
function screen(req: IncomingMessage, res: ServerResponse, trustedHops: number): boolean {
  const refuse = (status: number, code: string, message: string) => {
    res.writeHead(status, { "Content-Type": "application/json", Connection: "close" });
    res.end(JSON.stringify({ error: { code, message } }));
    return true;
  };
  if (req.method === "TRACE" || req.method === "CONNECT") {
    return refuse(405, "method_not_allowed", `${req.method} is not allowed`);
  }
  const target = req.url ?? "/";
  if (!target.startsWith("/")) {
    if (!URL.canParse(target)) return refuse(400, "bad_request", "the request target is not a URL");
    const url = new URL(target);
    req.url = `${url.pathname}${url.search}`;
  }
  if (trustedHops === 0) {
    for (const name of FORWARDING_HEADERS) {
      const believed = untrustedForwarding(name, req.socket.remoteAddress);
      if (believed === null || believed === undefined) delete req.headers[name];
      else req.headers[name] = believed;
    }
  }
  return false;
}

function isStreamRequest(req: IncomingMessage): boolean {
  const url = req.url ?? "/";
  const query = url.indexOf("?");
  const path = query < 0 ? url : url.slice(0, query);
  return path === STREAM_PATH && STREAM_METHODS.has(req.method ?? "GET");
}

/** The settings `next build` serialised: a built app needs no next.config.js at run time. */
function applyBuiltNextConfig(): void {
  const file = join(dir, ".next", "required-server-files.json");
  if (dev || !existsSync(file)) return;
  const { config } = JSON.parse(readFileSync(file, "utf8")) as { config: unknown };
  process.env.__NEXT_PRIVATE_STANDALONE_CONFIG = JSON.stringify(config);
}

async function serve(settings: SseConfig): Promise<void> {
  applyBuiltNextConfig();
  const app = next({ dev, dir, hostname: settings.hostname, port: settings.port });
  await app.prepare();
  const handle = app.getRequestHandler();
  const registered = streamAdapter();
  registered?.claimShutdown();
  // `next dev` recompiles what a developer edits (access rules, token checks) for route
  // handlers only: the stream adapter holds the modules it was registered with, so in dev
  // `/stream` is served by its route handler, which is reloaded like every other.
  const host = dev ? undefined : registered;
  if (dev) {
    console.info("[next-sse] dev: /stream is served by its route handler (reloaded on edits)");
    noticeRestartOnlyEdits(dir);
  } else if (host === undefined) {
    console.warn("[next-sse] no stream adapter registered: /stream is served by its route handler");
  }
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    // Pipelined behind a stream on this connection: never run (its answer could never go).
    if (registered?.received(req.socket)) return;
    if (screen(req, res, settings.trustProxy)) return;
    if (host !== undefined && isStreamRequest(req)) host.serve(req, res);
    else void handle(req, res);
  });
  if (host !== undefined && settings.fastPath) {
    // New connections meet the stream adapter first: it reads a plain `/stream` request off
    // the socket itself and hands every other connection to Node's HTTP server untouched.
    const [toHttp] = server.listeners("connection") as Array<(socket: Socket) => void>;
    server.removeAllListeners("connection");
    server.on("connection", (socket: Socket) =>
      host.accept(socket, (s) => toHttp.call(server, s), server.headersTimeout),
    );
  }
  server.on("error", (error) => {
    console.error(`[next-sse] server: ${error.message}`);
    process.exit(1);
  });
  server.listen({ port: settings.port, host: settings.hostname, backlog: LISTEN_BACKLOG }, () => {
    const where = cluster.isWorker ? ` (worker ${process.pid})` : "";
    console.info(
      `[next-sse] ${dev ? "dev" : "production"} server on http://${settings.hostname}:${settings.port}${where}`,
    );
  });
  let stopping = false;
  const stop = async (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    const stoppingAt = Date.now();
    const timeoutMs = settings.shutdownTimeoutMs;
    console.info(
      `[next-sse] ${signal}: closing the listener, ending streams within ${timeoutMs} ms`,
    );
    // Refused at TCP from now on: a reconnecting browser retries (another instance, or this
    // one restarted) instead of meeting a 503 it would give up on.
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    // One deadline for all of it: clients that stop reading cannot hold the exit past it.
    const deadline = new Promise<void>((resolve) => setTimeout(resolve, timeoutMs).unref());
    await Promise.race([registered?.drain(), deadline]);
    server.closeIdleConnections();
    await Promise.race([closed, deadline]);
    await Promise.race([app.close(), deadline]);
    console.info(`[next-sse] exiting ${Date.now() - stoppingAt} ms after ${signal}`);
    process.exit(signal === "SIGINT" ? 130 : 143);
  };
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
}

/** The primary of several workers: forks them, restarts a crashed one, forwards SIGTERM. */
function supervise(count: number): void {
  let stopping = false;
  const fork = () =>
    cluster.fork().on("exit", (code, signal) => {
      if (stopping) {
        if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(143);
        return;
      }
      console.warn(`[next-sse] worker exited (${signal ?? code}): starting another`);
      fork();
    });
  for (let i = 0; i < count; i++) fork();
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill(signal);
  };
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
}

const settings = readSettings();
if (cluster.isPrimary) warnAboutUnknownSettings();
const wanted = settings.workers === "auto" ? availableParallelism() : settings.workers;
const shared = settings.redisUrl !== undefined || settings.redisClusterNodes !== undefined;
if (cluster.isPrimary && wanted > 1 && !dev && shared) {
  console.info(`[next-sse] starting ${wanted} workers on port ${settings.port}`);
  supervise(wanted);
} else {
  if (cluster.isPrimary && wanted > 1) {
    console.warn(
      `[next-sse] SSE_WORKERS=${settings.workers} needs Redis (${dev ? "and not --dev" : "the in-memory broker reaches one process only"}): running one process`,
    );
  }
  serve(settings).catch((error: unknown) => {
    console.error("[next-sse] server failed to start:", error);
    process.exit(1);
  });
}
