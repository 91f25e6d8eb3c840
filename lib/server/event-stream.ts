import "server-only";
import { type Broker, type FrameListener, getBroker } from "@/lib/server/broker";
import { getConfig } from "@/lib/server/config";
import { HttpError } from "@/lib/server/http";
import { updatePresence } from "@/lib/server/presence";
import { installShutdown, isDraining } from "@/lib/server/shutdown";
import {
  counters,
  countOpenStreams,
  endAllStreams,
  track,
  untrack,
} from "@/lib/server/stream-registry";
import { concat, scheduleFlush } from "@/lib/server/write-batch";
import { encodeComment, encodeEvent } from "@/lib/sse/encode";
import { POSITION_EVENT, RESET_EVENT, type ResetData } from "@/lib/sse/events";
import {
  compareStreamIds,
  decodeLastEventId,
  encodeMultiChannelId,
  type Positions,
} from "@/lib/sse/ids";

/** Options for one event stream; all but `channels` and `signal` default from the config. */
export interface EventStreamOptions {
  broker: Broker;
  channels: readonly string[];
  /** Aborts when the client disconnects (the request's signal). */
  signal: AbortSignal;
  /** The client's Last-Event-ID (header, or `?lastEventId=`): resume after it. */
  lastEventId?: string | null;
  /** Reconnect delay sent to the browser with the first bytes, in ms. */
  retryMs: number;
  /** Idle time before a keep-alive comment, in ms; 0 for none. */
  heartbeatMs: number;
  /** Bytes that may wait for a slow client before the stream is dropped. */
  maxBacklogBytes: number;
  /** Seconds after which the stream ends with `retry: 0`, so the browser resumes; 0 for never. */
  maxStreamSeconds: number;
  /** Streams this process serves at most; past it, 503. */
  maxConnections: number;
}

const encoder = new TextEncoder();
const HEARTBEAT = encoder.encode(encodeComment());
// Ends a stream on purpose: the browser reconnects at once, with its Last-Event-ID.
const RECONNECT_NOW = encoder.encode(": reconnect\nretry: 0\n\n");

/**
 * Where a stream's bytes go: a web stream's controller (route handlers) or a Node
 * response (the plain Node stream server). Both keep the same bounded backlog.
 */
export interface StreamSink {
  write(chunk: Uint8Array): void;
  /** True when the client has left more than the backlog limit unread. */
  overBacklog(): boolean;
  end(): void;
  destroy(error: Error): void;
}

interface Buffered {
  frame: Uint8Array;
  id: string | undefined;
  channel: string;
}

/**
 * One open stream. Frames are queued and written once per event-loop turn, joined into a
 * single chunk, so a burst costs one web-stream write per client, not one per event. With
 * history, it tracks its position per channel; while it catches up (at start, and after a
 * broker reconnect) live events wait in a buffer and are de-duplicated against the replay.
 */
class Connection {
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  private sink: StreamSink | undefined;
  private closed = false;
  private ending = false;
  /** Counted in presence (only streams that started). */
  counted = false;
  private lifetime: NodeJS.Timeout | undefined;
  private catchingUp: boolean;
  /** A broker recovery came during a catch-up: catch up once more after it. */
  private recoverAgain = false;
  private buffered: Buffered[] = [];
  private readonly multi: boolean;
  private readonly offRecover: () => void;
  readonly positions: Positions = {};
  lastWriteAt = Date.now();

  readonly listener: FrameListener = (frame, id, channel) => {
    if (this.closed) return;
    if (this.catchingUp) this.buffered.push({ frame, id, channel });
    else this.deliver(frame, id, channel);
  };

  constructor(
    private readonly options: EventStreamOptions,
    private readonly onClose: (connection: Connection) => void,
  ) {
    this.multi = options.channels.length > 1;
    this.catchingUp = options.broker.history;
    this.offRecover = options.broker.history
      ? options.broker.onRecover(() => void this.recover())
      : () => {};
  }

  private deliver(frame: Uint8Array, id: string | undefined, channel: string): void {
    if (id !== undefined) {
      // A live event can arrive after the replay that already sent it: the history read
      // and the pub/sub message travel on different connections. Positions only grow.
      const position = this.positions[channel];
      if (position !== undefined && compareStreamIds(id, position) <= 0) return;
      this.positions[channel] = id;
    }
    counters.delivered++;
    if (!this.multi) {
      this.push(frame);
      return;
    }
    // Several channels: swap the frame's own id line for one naming the channel and every
    // position, so Last-Event-ID can resume them all and the client knows the source.
    const cut = id === undefined ? 1 : id.length + 6; // "\n" or "id: <id>\n\n"
    this.push(frame.subarray(0, frame.length - cut));
    this.push(
      encoder.encode(
        `id: ${encodeMultiChannelId(channel, this.options.channels, this.positions)}\n\n`,
      ),
    );
  }

  /**
   * Replays history after the stream's positions, then the live events that arrived in the
   * meantime, minus those the replay already sent. Positions history cannot resume from
   * (or an unreadable Last-Event-ID: `forceGap`) get one `reset` event.
   */
  async catchUp(forceGap = false): Promise<void> {
    const { broker, channels } = this.options;
    if (!broker.history) return;
    this.catchingUp = true;
    try {
      const replays = await Promise.all(
        channels.map((ch) => broker.readSince(ch, forceGap ? undefined : this.positions[ch])),
      );
      if (this.closed) return;
      const gaps = channels.filter((_, i) => forceGap || replays[i].gap);
      if (gaps.length > 0) {
        counters.resets++;
        this.push(
          encoder.encode(
            encodeEvent({ type: RESET_EVENT, data: { channels: gaps } satisfies ResetData }),
          ),
        );
      }
      channels.forEach((channel, i) => {
        const replay = replays[i];
        if (gaps.includes(channel) || this.positions[channel] === undefined) {
          this.positions[channel] = replay.lastId;
        }
        counters.replayed += replay.entries.length;
        for (const entry of replay.entries) this.deliver(entry.frame, entry.id, channel);
      });
      for (const { frame, id, channel } of this.buffered) this.deliver(frame, id, channel);
      // Tell the client where it stands even when nothing was replayed, so a reconnect
      // before the next event still resumes from here. An event (not a bare `id:`), so page
      // code can read the position too, e.g. to keep it for `?lastEventId=` next time.
      const position = this.multi
        ? encodeMultiChannelId("", channels, this.positions)
        : this.positions[channels[0]];
      this.push(encoder.encode(`event: ${POSITION_EVENT}\ndata: \nid: ${position}\n\n`));
    } finally {
      this.buffered = [];
      this.catchingUp = false;
    }
    // The broker came back while this catch-up was reading: what was published between that
    // read and the re-subscription reached neither, so read again from where we stand.
    if (this.recoverAgain) {
      this.recoverAgain = false;
      await this.catchUp();
    }
  }

  /** After a broker reconnect: catch up, or end the stream so the browser resumes itself. */
  private async recover(): Promise<void> {
    if (this.closed) return;
    if (this.catchingUp) {
      this.recoverAgain = true;
      return;
    }
    try {
      await this.catchUp();
    } catch {
      this.close();
    }
  }

  /** Queues a frame; it is written on this turn's flush. */
  push(frame: Uint8Array): void {
    if (this.closed) return;
    if (this.pending.length === 0) scheduleFlush(this);
    this.pending.push(frame);
    this.pendingBytes += frame.byteLength;
  }

  /** Starts writing: the first frame (comment + retry) goes out before anything queued. */
  start(sink: StreamSink, hello: Uint8Array): void {
    this.sink = sink;
    if (this.closed) {
      sink.end();
      return;
    }
    if (this.pending.length === 0) sink.write(hello);
    else {
      // What was replayed goes out with the first bytes: one write, not two.
      this.pending.unshift(hello);
      this.pendingBytes += hello.byteLength;
      this.flush(Date.now());
    }
    const { maxStreamSeconds } = this.options;
    if (maxStreamSeconds > 0) {
      // Up to 10% early, so streams opened together do not all reconnect together.
      const ms = maxStreamSeconds * 1000 * (0.9 + Math.random() * 0.1);
      this.lifetime = setTimeout(() => this.end(), ms);
      this.lifetime.unref();
    }
  }

  /** Ends the stream cleanly after what is queued, telling the browser to reconnect now. */
  end(): void {
    if (this.closed || this.ending) return;
    this.push(RECONNECT_NOW);
    this.ending = true;
  }

  flush(now: number): void {
    const sink = this.sink;
    if (this.closed || sink === undefined || this.pending.length === 0) return;
    const chunk =
      this.pending.length === 1 ? this.pending[0] : concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    sink.write(chunk);
    this.lastWriteAt = now;
    if (this.ending) {
      this.close();
      return;
    }
    // The queue is bounded: a client that stops reading is dropped, not buffered forever.
    if (sink.overBacklog()) {
      counters.slowConsumerDrops++;
      this.close(new Error("slow consumer: backlog limit exceeded"));
    }
  }

  heartbeat(now: number): void {
    if (this.sink === undefined || this.pending.length > 0) return;
    this.push(HEARTBEAT);
    this.lastWriteAt = now;
  }

  /** Idempotent: detaches from the broker and ends the stream. */
  close(error?: Error): void {
    if (this.closed) return;
    this.closed = true;
    this.pending = [];
    this.buffered = [];
    clearTimeout(this.lifetime);
    this.offRecover();
    if (this.counted) updatePresence(this.options.channels, -1);
    for (const channel of this.options.channels) {
      this.options.broker.unsubscribe(channel, this.listener);
    }
    this.onClose(this);
    try {
      if (error) this.sink?.destroy(error);
      else this.sink?.end();
    } catch {
      // Already closed or cancelled by the consumer.
    }
  }
}

/** A stream whose subscriptions are confirmed and whose replay is queued: attach a sink. */
export interface OpenedStream {
  /** Starts writing to the sink: the first bytes, then what was replayed, then live events. */
  attach(sink: StreamSink): void;
  /** Ends the stream and releases its subscriptions (the client left). */
  close(): void;
  /** Bytes the client may leave unread before it is dropped (SSE_MAX_BACKLOG_BYTES). */
  readonly maxBacklogBytes: number;
}

/**
 * Subscribes to the channels and replays what the client missed since its Last-Event-ID
 * (with history), for any sink. Resolves only once every subscription is confirmed, so when
 * the browser sees `open`, every event published from then on reaches it. Client
 * disconnect (signal abort) cleans up once.
 * @throws BrokerUnavailableError when the broker cannot subscribe or read history in time.
 * @throws HttpError 503 when the process already serves SSE_MAX_CONNECTIONS streams.
 */
export async function prepareEventStream(
  request: Pick<EventStreamOptions, "channels" | "signal"> & Partial<EventStreamOptions>,
): Promise<OpenedStream> {
  const config = getConfig();
  const options: EventStreamOptions = {
    broker: request.broker ?? getBroker(),
    retryMs: config.retryMs,
    heartbeatMs: config.heartbeatMs,
    maxBacklogBytes: config.maxBacklogBytes,
    maxStreamSeconds: config.maxStreamSeconds,
    maxConnections: config.maxConnections,
    ...request,
  };
  if (isDraining()) {
    throw new HttpError(503, "shutting_down", "this server is shutting down: reconnect", {
      "Retry-After": "1",
    });
  }
  if (countOpenStreams() >= options.maxConnections) {
    throw new HttpError(
      503,
      "too_many_streams",
      `this server is at its limit of ${options.maxConnections} streams`,
      {
        "Retry-After": "5",
      },
    );
  }
  const { maxBacklogBytes } = options;
  // The client left before we started: nothing to subscribe, nobody to write to.
  if (options.signal.aborted) {
    return { attach: (sink) => sink.end(), close: () => {}, maxBacklogBytes };
  }
  const connection = new Connection(options, untrack);
  track(connection, options.heartbeatMs);
  const onAbort = () => connection.close();
  options.signal.addEventListener("abort", onAbort, { once: true });
  try {
    await Promise.all(
      options.channels.map((channel) => options.broker.subscribe(channel, connection.listener)),
    );
    let forceGap = false;
    if (options.lastEventId) {
      const positions = decodeLastEventId(options.lastEventId, options.channels);
      if (positions === undefined) forceGap = true;
      else Object.assign(connection.positions, positions);
    }
    await connection.catchUp(forceGap);
  } catch (error) {
    options.signal.removeEventListener("abort", onAbort);
    connection.close();
    throw error;
  }
  // The client may have left while we subscribed and replayed: it was cleaned up already.
  if (options.signal.aborted) {
    return { attach: (sink) => sink.end(), close: () => {}, maxBacklogBytes };
  }
  connection.counted = true;
  updatePresence(options.channels, 1);
  installShutdown(endAllStreams, config.shutdownTimeoutMs);
  const hello = encoder.encode(`: connected\nretry: ${options.retryMs}\n\n`);
  return {
    attach: (sink) => connection.start(sink, hello),
    close: () => connection.close(),
    maxBacklogBytes,
  };
}

/** Where a request resumes from: the `Last-Event-ID` header, else `?lastEventId=`. */
export function readLastEventId(request: Request): string | null {
  return (
    request.headers.get("last-event-id") ?? new URL(request.url).searchParams.get("lastEventId")
  );
}

/**
 * `prepareEventStream` as a web `ReadableStream`, for route handlers. Its queue is the
 * backlog: a client over SSE_MAX_BACKLOG_BYTES unread is dropped. Cancel cleans up.
 */
export async function openEventStream(
  request: Pick<EventStreamOptions, "channels" | "signal"> & Partial<EventStreamOptions>,
): Promise<ReadableStream<Uint8Array>> {
  const opened = await prepareEventStream(request);
  return new ReadableStream<Uint8Array>(
    {
      start: (controller) =>
        opened.attach({
          write: (chunk) => controller.enqueue(chunk),
          overBacklog: () => (controller.desiredSize ?? 0) < 0,
          end: () => controller.close(),
          destroy: (error) => controller.error(error),
        }),
      cancel: () => opened.close(),
    },
    { highWaterMark: opened.maxBacklogBytes, size: (chunk) => chunk.byteLength },
  );
}

export { countOpenStreams, endAllStreams, streamCounters } from "@/lib/server/stream-registry";
