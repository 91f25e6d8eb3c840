import "server-only";
import type { Socket } from "node:net";
import { singleton } from "@/lib/ops/singleton";
import { parseRequestHead, type RequestHead } from "@/lib/transport/http1/http1";

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
 * had never been touched (the bytes are put back first). The headers timeout runs from the
 * connection's start, not from the hand-off: Node's own clock for it starts again there,
 * so the intake keeps the socket on its sweep until Node has read a whole request head
 * (`headReceived`).
 */
export function takeConnection(socket: Socket, routes: IntakeRoutes): void {
  // An error before the first byte (a reset) has nobody else to catch it yet.
  socket.on("error", ignore);
  awaitHead(socket, routes.headersTimeoutMs);
  // Gone before its first byte (a connect-then-close, a port scan): let go of it now, as
  // Node's server would, instead of at the sweep (a descriptor each meanwhile).
  const leftEarly = () => {
    silentSockets().until.delete(socket);
    socket.destroy();
  };
  socket.once("end", leftEarly);
  socket.once("close", leftEarly);
  socket.once("data", (chunk: Buffer) => {
    socket.removeListener("end", leftEarly);
    socket.removeListener("close", leftEarly);
    const head = parseRequestHead(chunk);
    if (head === undefined) {
      // Still on the sweep: until Node reports a whole head, the original deadline holds.
      socket.pause();
      socket.unshift(chunk);
      socket.removeListener("error", ignore);
      routes.toHttp(socket);
      socket.resume();
      return;
    }
    silentSockets().until.delete(socket);
    // The request is all read: what follows is neither parsed nor kept (flowing, no
    // listener), so nothing pipelined behind the stream runs.
    socket.on("end", endSocket);
    routes.serveStream(socket, head);
  });
}

/** Node's HTTP server read a whole request head on `socket`: its timeouts take over. */
export function headReceived(socket: Socket): void {
  silentSockets().until.delete(socket);
}

/**
 * Connections that have not sent a whole request head yet, and until when they may: one
 * sweep closes those past the headers timeout (a timer per socket would stay on it for the
 * stream's life).
 */
const silentSockets = () =>
  singleton("silent-sockets", () => ({
    until: new Map<Socket, number>(),
    sweep: undefined as NodeJS.Timeout | undefined,
  }));

function awaitHead(socket: Socket, timeoutMs: number): void {
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
