import "server-only";
import type { Socket } from "node:net";
import { singleton } from "@/lib/server/singleton";
import { parseRequestHead, type RequestHead } from "@/lib/server/stream/http1";

/** Where a new connection goes once its first bytes are in. */
export interface IntakeRoutes {
  /** Node's HTTP server's own connection listener: it parses the connection from byte one. */
  toHttp(socket: Socket): void;
  /** Serves a plain `/stream` request read off the socket (see `http1.ts`). */
  serveStream(socket: Socket, head: RequestHead): void;
  /** A connection silent this long is closed (the HTTP server's `headersTimeout`). */
  headersTimeoutMs: number;
}

const ignore = () => {};

/** A client that half-closes has left (as Node's HTTP server has it). */
function endSocket(this: Socket): void {
  this.end();
}

/**
 * Takes a new connection of the production server: reads its first bytes, serves a plain
 * `/stream` request itself, and hands any other connection to Node's HTTP server as if it
 * had never been touched (the bytes are put back first).
 */
export function takeConnection(socket: Socket, routes: IntakeRoutes): void {
  // An error before the first byte (a reset) has nobody else to catch it yet.
  socket.on("error", ignore);
  awaitFirstBytes(socket, routes.headersTimeoutMs);
  socket.once("data", (chunk: Buffer) => {
    silentSockets().until.delete(socket);
    const head = parseRequestHead(chunk);
    if (head === undefined) {
      socket.pause();
      socket.unshift(chunk);
      socket.removeListener("error", ignore);
      routes.toHttp(socket);
      socket.resume();
      return;
    }
    // The request is all read: what follows is ignored.
    socket.on("end", endSocket);
    routes.serveStream(socket, head);
  });
}

/**
 * Connections that have sent nothing yet, and until when they may: one sweep closes those
 * silent past the headers timeout (a timer per socket would stay on it for the stream's life).
 */
const silentSockets = () =>
  singleton("silent-sockets", () => ({
    until: new Map<Socket, number>(),
    sweep: undefined as NodeJS.Timeout | undefined,
  }));

function awaitFirstBytes(socket: Socket, timeoutMs: number): void {
  const silent = silentSockets();
  silent.until.set(socket, Date.now() + timeoutMs);
  if (silent.sweep !== undefined) return;
  // A quarter of the timeout (at least a second) between sweeps; stops when none is left.
  silent.sweep = setInterval(
    () => {
      const now = Date.now();
      for (const [waiting, deadline] of silent.until) {
        if (deadline > now && !waiting.destroyed) continue;
        silent.until.delete(waiting);
        waiting.destroy();
      }
      if (silent.until.size > 0) return;
      clearInterval(silent.sweep);
      silent.sweep = undefined;
    },
    Math.max(1000, timeoutMs / 4),
  );
  silent.sweep.unref();
}
