import "server-only";
import { type Broker, type FrameListener, getBroker } from "@/lib/server/broker";
import { getConfig } from "@/lib/server/config";
import { encodeComment } from "@/lib/sse/encode";

/** Options for one event stream; all but `channels` and `signal` default from the config. */
export interface EventStreamOptions {
  broker: Broker;
  channels: readonly string[];
  /** Aborts when the client disconnects (the request's signal). */
  signal: AbortSignal;
  /** Reconnect delay sent to the browser with the first bytes, in ms. */
  retryMs: number;
  /** Idle time before a keep-alive comment, in ms; 0 for none. */
  heartbeatMs: number;
  /** Bytes that may wait for a slow client before the stream is dropped. */
  maxBacklogBytes: number;
}

const encoder = new TextEncoder();
const HEARTBEAT = encoder.encode(encodeComment());

/**
 * One open stream. Frames from the broker are queued and written once per event-loop turn,
 * joined into a single chunk, so a burst costs one web-stream write per client, not one per
 * event.
 */
class Connection {
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  private controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  private closed = false;
  lastWriteAt = Date.now();
  readonly listener: FrameListener = (frame) => this.push(frame);

  constructor(
    private readonly options: EventStreamOptions,
    private readonly onClose: (connection: Connection) => void,
  ) {}

  /** Queues a frame; it is written on this turn's flush. */
  push(frame: Uint8Array): void {
    if (this.closed) return;
    if (this.pending.length === 0) scheduleFlush(this);
    this.pending.push(frame);
    this.pendingBytes += frame.byteLength;
  }

  /** Starts writing: the first frame (comment + retry) goes out before anything queued. */
  start(controller: ReadableStreamDefaultController<Uint8Array>, hello: Uint8Array): void {
    this.controller = controller;
    if (this.closed) {
      controller.close();
      return;
    }
    controller.enqueue(hello);
    if (this.pending.length > 0) scheduleFlush(this);
  }

  flush(now: number): void {
    const controller = this.controller;
    if (this.closed || controller === undefined || this.pending.length === 0) return;
    const chunk =
      this.pending.length === 1 ? this.pending[0] : concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    controller.enqueue(chunk);
    this.lastWriteAt = now;
    // The queue is bounded: a client that stops reading is dropped, not buffered forever.
    if ((controller.desiredSize ?? 0) < 0) {
      this.close(new Error("slow consumer: backlog limit exceeded"));
    }
  }

  heartbeat(now: number): void {
    if (this.controller === undefined || this.pending.length > 0) return;
    this.push(HEARTBEAT);
    this.lastWriteAt = now;
  }

  /** Idempotent: detaches from the broker and ends the stream. */
  close(error?: Error): void {
    if (this.closed) return;
    this.closed = true;
    this.pending = [];
    for (const channel of this.options.channels) {
      this.options.broker.unsubscribe(channel, this.listener);
    }
    this.onClose(this);
    try {
      if (error) this.controller?.error(error);
      else this.controller?.close();
    } catch {
      // Already closed or cancelled by the consumer.
    }
  }
}

function concat(parts: Uint8Array[], length: number): Uint8Array {
  const out = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.byteLength;
  }
  return out;
}

// Process-wide write batching: connections with pending frames, flushed once per turn.
let dirty: Connection[] = [];
let flushScheduled = false;

function scheduleFlush(connection: Connection): void {
  dirty.push(connection);
  if (flushScheduled) return;
  flushScheduled = true;
  setImmediate(flushAll);
}

function flushAll(): void {
  const batch = dirty;
  dirty = [];
  flushScheduled = false;
  const now = Date.now();
  for (const connection of batch) connection.flush(now);
}

const open = new Set<Connection>();
let heartbeatTimer: NodeJS.Timeout | undefined;

function track(connection: Connection, heartbeatMs: number): void {
  open.add(connection);
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

function untrack(connection: Connection): void {
  open.delete(connection);
  if (open.size === 0 && heartbeatTimer !== undefined) {
    clearInterval(heartbeatTimer);
    heartbeatTimer = undefined;
  }
}

/** Streams open in this process. */
export function countOpenStreams(): number {
  return open.size;
}

/**
 * Subscribes to the channels and returns the stream of their events. Resolves only once
 * every subscription is confirmed, so when the browser sees `open`, every event published
 * from then on reaches it. Client disconnect (signal abort or stream cancel) cleans up once.
 * @throws BrokerUnavailableError when the broker cannot subscribe in time.
 */
export async function openEventStream(
  request: Pick<EventStreamOptions, "channels" | "signal"> & Partial<EventStreamOptions>,
): Promise<ReadableStream<Uint8Array>> {
  const config = getConfig();
  const options: EventStreamOptions = {
    broker: getBroker(),
    retryMs: config.retryMs,
    heartbeatMs: config.heartbeatMs,
    maxBacklogBytes: config.maxBacklogBytes,
    ...request,
  };
  // The client left before we started: nothing to subscribe, nobody to write to.
  if (options.signal.aborted) return new ReadableStream({ start: (c) => c.close() });
  const connection = new Connection(options, untrack);
  track(connection, options.heartbeatMs);
  const onAbort = () => connection.close();
  options.signal.addEventListener("abort", onAbort, { once: true });
  try {
    await Promise.all(
      options.channels.map((channel) => options.broker.subscribe(channel, connection.listener)),
    );
  } catch (error) {
    options.signal.removeEventListener("abort", onAbort);
    connection.close();
    throw error;
  }
  const hello = encoder.encode(`: connected\nretry: ${options.retryMs}\n\n`);
  return new ReadableStream<Uint8Array>(
    {
      start: (controller) => connection.start(controller, hello),
      cancel: () => connection.close(),
    },
    { highWaterMark: options.maxBacklogBytes, size: (chunk) => chunk.byteLength },
  );
}
