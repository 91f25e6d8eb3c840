import "server-only";
import { type Broker, getBroker, isBrokerUnavailable } from "@/lib/broker";
import type { App } from "@/lib/catalog/app";
import type { EventDataOf, EventTypeOf } from "@/lib/catalog/typing";
import { getConfig } from "@/lib/config";
import { assertChannel } from "@/lib/sse/channel";
import { POSITION_EVENT, type RESET_EVENT, type ResetData } from "@/lib/sse/events";
import { parseFrame, splitFrames } from "@/lib/sse/frame";
import { channelOfId } from "@/lib/sse/ids";
import { type CloseReason, StreamLifecycle } from "@/lib/stream/lifecycle";
import { Outbox } from "@/lib/stream/outbox";
import { Session } from "@/lib/stream/session";
import type { Sink } from "@/lib/transport/sinks";

/**
 * One event as server code receives it from `subscribe`, typed by its channel's declaration
 * (`lib/channels.ts`): its position (pass the last one seen as `after` to resume later), its
 * channel, its type (`message` when it had none), its data (parsed JSON when it is JSON,
 * else the text, as the browser hook hands it over); or `reset` when history could not fill
 * a gap.
 */
export type ServerEvent<C extends string = string> =
  | (C extends string
      ? {
          [T in EventTypeOf<App, C>]: {
            id: string | undefined;
            channel: C;
            type: T;
            data: EventDataOf<App, C, T>;
          };
        }[EventTypeOf<App, C>]
      : never)
  | { id: string | undefined; channel: C; type: typeof RESET_EVENT; data: ResetData };

/** Options of `subscribe`. */
export interface SubscribeOptions {
  /** Resume after this id (an event's `id`, or a stream's Last-Event-ID). */
  after?: string;
  /** Start with the last N events of channels without a position (at most SSE_MAX_REWIND). */
  rewind?: number;
  /** Ends the iteration. */
  signal?: AbortSignal;
  /** Bytes waiting for a slow consumer before it is caught up again from history. */
  maxBufferedBytes?: number;
  /** Defaults to the process's broker. */
  broker?: Broker;
}

// A worker waits this long before trying again when Redis does not answer at start.
const RETRY_MS = 1000;
const NO_BYTES = new Uint8Array(0);
const DECODER = new TextDecoder();

/**
 * Follows channels from server code (a worker, a webhook relay): the same events a browser
 * gets (replay after `after`, or `rewind`, then live; `reset` when a gap cannot be filled),
 * in order, each once, through broker recoveries and Redis restarts. A consumer that falls
 * more than `maxBufferedBytes` behind is caught up again from history, as a slow browser
 * would be. With the in-memory broker it follows this process only.
 * @throws SseInputError for an invalid channel.
 */
export async function* subscribe<C extends string>(
  channels: C[],
  options: SubscribeOptions = {},
): AsyncGenerator<ServerEvent<C>> {
  const config = getConfig();
  for (const channel of channels) assertChannel(channel, config.maxChannelLength);
  const { signal } = options;
  const broker = options.broker ?? getBroker();
  const maxBytes = options.maxBufferedBytes ?? config.maxBacklogBytes;
  let position = options.after ?? null;
  let rewind = Math.min(options.rewind ?? 0, config.maxRewind);
  while (!signal?.aborted) {
    const queue = new FrameQueue(maxBytes);
    const lifecycle = new StreamLifecycle();
    const outbox = new Outbox({ maxBacklogBytes: maxBytes, maxStreamSeconds: 0 }, lifecycle);
    const session = new Session(broker, channels, outbox, maxBytes, config.maxReplayBytes);
    lifecycle.hold((reason) => {
      session.close();
      queue.end(reason);
    });
    const stop = () => outbox.close("client");
    signal?.addEventListener("abort", stop, { once: true });
    try {
      await session.start(position, rewind);
    } catch (error) {
      outbox.close("client");
      signal?.removeEventListener("abort", stop);
      if (!isBrokerUnavailable(error)) throw error;
      await pause(RETRY_MS, signal);
      continue;
    }
    rewind = 0;
    outbox.attach(queue.sink, NO_BYTES);
    try {
      for await (const frame of queue) {
        const { type, data, id } = parseFrame(frame);
        if (id !== undefined) position = id;
        if (type === POSITION_EVENT || (type === undefined && data === "")) continue;
        const channel = channels.length > 1 ? (channelOfId(id ?? "") ?? "") : channels[0];
        // Checked against the declaration when it was published.
        yield { id, channel, type: type ?? "message", data: decodeData(data) } as ServerEvent<C>;
      }
    } finally {
      // Also when the consumer stops early (`break`): the subscriptions are released.
      outbox.close("client");
      signal?.removeEventListener("abort", stop);
    }
    // Ended for the client (abort) or dropped: otherwise resume from where it stood.
    if (queue.reason === "client") return;
  }
}

function decodeData(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}

/** The frames a subscription has for its consumer: the sink the outbox writes to. */
class FrameQueue implements AsyncIterable<string> {
  private readonly frames: string[] = [];
  private bytes = 0;
  private done = false;
  reason: CloseReason | undefined;
  private wake: (() => void) | undefined;
  private drained: Array<() => void> = [];

  constructor(private readonly maxBytes: number) {}

  readonly sink: Sink = {
    kind: "node",
    write: (chunk) => {
      if (chunk.byteLength === 0) return;
      // A chunk is one or more whole frames, joined.
      this.frames.push(...splitFrames(DECODER.decode(chunk)));
      this.bytes += chunk.byteLength;
      this.wake?.();
    },
    unreadBytes: () => this.bytes,
    onDrain: (callback) => this.drained.push(callback),
    end: () => this.end("ended"),
    destroy: () => this.end("slow_consumer"),
  };

  end(reason: CloseReason): void {
    this.reason ??= reason;
    this.done = true;
    this.wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<string> {
    for (;;) {
      const frame = this.frames.shift();
      if (frame !== undefined) {
        this.bytes = Math.max(0, this.bytes - Buffer.byteLength(frame));
        if (this.bytes <= this.maxBytes / 4) {
          for (const callback of this.drained.splice(0)) callback();
        }
        yield frame;
        continue;
      }
      if (this.done) return;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
      this.wake = undefined;
    }
  }
}
