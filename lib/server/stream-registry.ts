import "server-only";

/** What the registry needs of an open stream. */
export interface RegisteredStream {
  lastWriteAt: number;
  heartbeat(now: number): void;
  end(): void;
}

// Process-wide: the open streams (for limits, heartbeats, shutdown) and running totals.
const open = new Set<RegisteredStream>();
/** Process-wide stream counters, for health and metrics. */
export const counters = { opened: 0, delivered: 0, replayed: 0, slowConsumerDrops: 0, resets: 0 };
let heartbeatTimer: NodeJS.Timeout | undefined;

/** Counts a stream as open and keeps the process's heartbeat timer running. */
export function track(connection: RegisteredStream, heartbeatMs: number): void {
  open.add(connection);
  counters.opened++;
  if (heartbeatMs > 0 && heartbeatTimer === undefined) {
    // Checked at a quarter of the interval, so an idle stream hears from us within 1.25x.
    heartbeatTimer = setInterval(
      () => {
        const now = Date.now();
        for (const c of open) if (now - c.lastWriteAt >= heartbeatMs) c.heartbeat(now);
      },
      Math.max(250, heartbeatMs / 4),
    );
    heartbeatTimer.unref();
  }
}

/** Forgets a closed stream; the heartbeat timer stops with the last one. */
export function untrack(connection: RegisteredStream): void {
  open.delete(connection);
  if (open.size === 0 && heartbeatTimer !== undefined) {
    clearInterval(heartbeatTimer);
    heartbeatTimer = undefined;
  }
}

/** Ends every open stream with `retry: 0`, so browsers reconnect (elsewhere) and resume. */
export function endAllStreams(): void {
  for (const connection of open) connection.end();
}

/** Streams open in this process. */
export function countOpenStreams(): number {
  return open.size;
}

/** Streams opened, events delivered and replayed, slow-consumer drops and resets, since start. */
export function streamCounters(): Readonly<typeof counters> {
  return counters;
}
