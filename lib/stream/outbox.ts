import "server-only";
import { singleton } from "@/lib/ops/singleton";
import { END_EVENT, type EndData } from "@/lib/sse/events";
import { encodeEvent, frameBytes, HEARTBEAT_FRAME, jitteredReconnectFrame } from "@/lib/sse/frame";
import type { CloseReason, StreamLifecycle } from "@/lib/stream/lifecycle";
import type { Sink } from "@/lib/transport/sinks";

const MAX_TIMER_MS = 2 ** 31 - 1;
const TOKEN_EXPIRED_FRAME = frameBytes(
  encodeEvent({ type: END_EVENT, data: { reason: "token_expired" } satisfies EndData }),
);
const TOKEN_REVOKED_FRAME = frameBytes(
  encodeEvent({ type: END_EVENT, data: { reason: "token_revoked" } satisfies EndData }),
);
const UNAUTHORIZED_FRAME = frameBytes(
  encodeEvent({ type: END_EVENT, data: { reason: "unauthorized" } satisfies EndData }),
);

/** How an outbox writes: the bounds and timers of one stream. */
export interface OutboxOptions {
  /** Bytes the client may leave unread before the stream is dropped (SSE_MAX_BACKLOG_BYTES). */
  maxBacklogBytes: number;
  /** Seconds after which the stream ends with a reconnect hint, so the browser resumes; 0 for never. */
  maxStreamSeconds: number;
  /** When the stream's access ends (its token's expiry, ms since the epoch), if it does. */
  expiresAt?: number;
  /**
   * Who holds it (`sub`, `jti`), so a revocation can end it; `byRule` when an app rule (a
   * cookie, a session), not a token, admitted it.
   */
  holder?: { sub?: string; jti?: string; byRule?: boolean };
}

/**
 * The write side of one stream. Frames are queued and written once per event-loop turn,
 * joined into one chunk, so a burst costs one socket write per client, not one per event.
 * The sink's unread bytes are the backlog: past the bound the stream is dropped, not
 * buffered forever. It also ends the stream at its lifetime and sends heartbeats.
 */
export class Outbox {
  private readonly pending: Uint8Array[] = [];
  private pendingBytes = 0;
  private sink: Sink | undefined;
  private lifetime: NodeJS.Timeout | undefined;
  private expiry: NodeJS.Timeout | undefined;
  /** When the stream last wrote; the registry's heartbeat sweep reads it. */
  lastWriteAt = Date.now();
  private roomWaiters: Array<() => void> = [];
  private drainArmed = false;

  constructor(
    private readonly options: OutboxOptions,
    /** The stream's life: its phase (what may be written, and how) and its one close path. */
    readonly lifecycle: StreamLifecycle,
  ) {
    lifecycle.hold(() => {
      this.pending.length = 0;
      this.pendingBytes = 0;
      clearTimeout(this.lifetime);
      clearTimeout(this.expiry);
      this.checkRoom();
    });
  }

  /** Queues a frame; it is written on this turn's flush (or when a sink attaches). */
  push(frame: Uint8Array): void {
    if (this.lifecycle.closed) return;
    if (this.pending.length === 0 && this.sink !== undefined) scheduleFlush(this);
    this.pending.push(frame);
    this.pendingBytes += frame.byteLength;
  }

  /**
   * Starts writing: `first` (the hello) goes out with whatever was queued, in one write.
   * False when the stream closed before (the sink is ended at once).
   */
  attach(sink: Sink, first: Uint8Array): boolean {
    this.sink = sink;
    if (this.lifecycle.closed) {
      sink.end();
      return false;
    }
    this.pending.unshift(first);
    this.pendingBytes += first.byteLength;
    this.flush(Date.now());
    // Already ended by that first write (e.g. a drain that began while it was opening).
    if (this.lifecycle.closed) return true;
    const { maxStreamSeconds } = this.options;
    if (maxStreamSeconds > 0) {
      // Up to 10% early, so streams opened together do not all reconnect together.
      const ms = maxStreamSeconds * 1000 * (0.9 + Math.random() * 0.1);
      this.lifetime = setTimeout(() => this.end(), ms);
      this.lifetime.unref();
    }
    const { expiresAt } = this.options;
    if (expiresAt !== undefined) this.endAtExpiry(expiresAt);
    if (this.roomWaiters.length > 0) this.checkRoom();
    return true;
  }

  /** Whose token opened the stream, if a token did. */
  get holder(): { sub?: string; jti?: string } | undefined {
    return this.options.holder;
  }

  /**
   * Ends the stream because its access was withdrawn: `token_revoked` (the page needs a new
   * token) or, for a stream an app rule admitted, `unauthorized` (a logout: the client does
   * not come back until the page asks again). Then the reconnect hint.
   */
  revoke(): void {
    this.end(this.options.holder?.byRule === false ? TOKEN_REVOKED_FRAME : UNAUTHORIZED_FRAME);
  }

  /** Ends the stream exactly at `expiresAt` (no jitter: the token says until when). */
  private endAtExpiry(expiresAt: number): void {
    // setTimeout holds at most 2^31-1 ms (24.8 days); tokens may live longer.
    const wait = Math.min(expiresAt - Date.now(), MAX_TIMER_MS);
    this.expiry = setTimeout(() => {
      if (Date.now() >= expiresAt) this.end(TOKEN_EXPIRED_FRAME);
      else this.endAtExpiry(expiresAt);
    }, wait);
    this.expiry.unref();
  }

  /**
   * Ends the stream cleanly after what is queued, telling the browser to reconnect now;
   * `reason` (an `end` event) goes just before, for the page.
   */
  end(reason?: Uint8Array): void {
    if (!this.lifecycle.beginEnding()) return;
    if (reason !== undefined) this.push(reason);
    this.push(jitteredReconnectFrame());
  }

  /** Writes what is queued as one chunk. Called by the process's flush, once per turn. */
  flush(now: number): void {
    const sink = this.sink;
    const { phase } = this.lifecycle;
    if (phase === "closed" || sink === undefined || this.pending.length === 0) return;
    const chunk =
      this.pending.length === 1 ? this.pending[0] : concat(this.pending, this.pendingBytes);
    // Emptied in place: one array per stream for its life, not one per flush.
    this.pending.length = 0;
    this.pendingBytes = 0;
    sink.write(chunk);
    this.lastWriteAt = now;
    if (phase === "ending") this.close("ended");
    // A replay paces itself with `room()`: its bytes never count as a slow consumer.
    else if (phase !== "replaying" && sink.unreadBytes() > this.options.maxBacklogBytes) {
      this.close("slow_consumer");
    } else if (this.roomWaiters.length > 0) this.checkRoom();
  }

  /**
   * Resolves once a sink is attached and the client has left at most a quarter of the
   * backlog bound unread, so the next page of a replay can be queued; at once if closed.
   */
  room(): Promise<void> {
    return new Promise((resolve) => {
      this.roomWaiters.push(resolve);
      this.checkRoom();
    });
  }

  private checkRoom(): void {
    const sink = this.sink;
    if (!this.lifecycle.closed) {
      if (sink === undefined) return; // attach() checks again
      const unread = sink.unreadBytes() + this.pendingBytes;
      if (unread > this.options.maxBacklogBytes / 4) {
        if (!this.drainArmed) {
          this.drainArmed = true;
          sink.onDrain(() => {
            this.drainArmed = false;
            this.checkRoom();
          });
        }
        return;
      }
    }
    const waiters = this.roomWaiters;
    this.roomWaiters = [];
    for (const resolve of waiters) resolve();
  }

  /** Queues a keep-alive comment unless something is queued already. */
  heartbeat(now: number): void {
    if (this.sink === undefined || this.pending.length > 0) return;
    this.push(HEARTBEAT_FRAME);
    this.lastWriteAt = now;
  }

  /** Idempotent: drops what is queued and ends (or, for a slow consumer, destroys) the sink. */
  close(reason: CloseReason = "client"): void {
    // The one close path: what the stream held is released there, once.
    if (!this.lifecycle.close(reason)) return;
    try {
      if (reason === "slow_consumer") this.sink?.destroy();
      else this.sink?.end();
    } catch {
      // Already closed or cancelled by the consumer.
    }
  }
}

/** Joins byte chunks into one. */
function concat(parts: Uint8Array[], length: number): Uint8Array {
  const out = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.byteLength;
  }
  return out;
}

// Outboxes with frames queued are flushed once per turn, in slices of 64, so the first
// sockets are written (and the kernel and clients get busy) while the next slice is still
// being prepared, instead of every write waiting for all the work.
const FLUSH_SLICE = 64;

interface FlushQueue {
  dirty: Outbox[];
  flushing: Outbox[];
  index: number;
  scheduled: boolean;
}

const flushQueue = () =>
  singleton<FlushQueue>("flush-queue", () => ({
    dirty: [],
    flushing: [],
    index: 0,
    scheduled: false,
  }));

function scheduleFlush(outbox: Outbox): void {
  const queue = flushQueue();
  queue.dirty.push(outbox);
  if (queue.scheduled) return;
  queue.scheduled = true;
  setImmediate(flushSlice);
}

function flushSlice(): void {
  const queue = flushQueue();
  if (queue.index >= queue.flushing.length) {
    queue.flushing = queue.dirty;
    queue.dirty = [];
    queue.index = 0;
  }
  const now = Date.now();
  const end = Math.min(queue.flushing.length, queue.index + FLUSH_SLICE);
  for (; queue.index < end; queue.index++) queue.flushing[queue.index].flush(now);
  if (queue.index < queue.flushing.length || queue.dirty.length > 0) setImmediate(flushSlice);
  else queue.scheduled = false;
}
