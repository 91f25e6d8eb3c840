import { createParser, type EventSourceMessage } from "eventsource-parser";
import { backoffDelay, cleanEndDelay, parseRetryAfter } from "@/lib/client/backoff";
import {
  CONNECTING_STATE,
  type GetToken,
  type StreamEvent,
  type StreamState,
} from "@/lib/client/stream-state";
import { END_EVENT, POSITION_EVENT, RECONNECT_COMMENT } from "@/lib/sse/events";
import {
  advancePosition,
  channelOfId,
  compareStreamIds,
  decodeLastEventId,
  encodeMultiChannelId,
  isStreamId,
} from "@/lib/sse/ids";

/**
 * One Server-Sent Events connection for a set of channels that never gives up where trying
 * again can help: `fetch` plus `eventsource-parser` instead of the browser's EventSource,
 * which hides status codes, headers and heartbeats and stops for good on any HTTP error.
 * Plain TypeScript: runs in a tab, a SharedWorker or Node.
 */

/** Timers and time, injectable so tests are deterministic. */
export interface Clock {
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface StreamConnectionOptions {
  /** The stream endpoint, e.g. `/stream`. */
  url: string;
  channels: readonly string[];
  /** Positions to resume from (channel -> history id). */
  positions?: ReadonlyMap<string, string>;
  /** `?rewind=N` for channels without a position. */
  rewind?: number;
  /** Called before each connect; its token travels as `Authorization: Bearer`. */
  getToken?: GetToken;
  onEvent(event: StreamEvent): void;
  onState?(state: StreamState): void;
  fetch?: typeof fetch;
  clock?: Clock;
  random?: () => number;
  /** Heartbeat interval assumed until the server announces its own (ms, 15000). */
  heartbeatMs?: number;
  /**
   * The server refused these channels for good (400/401/403, or ended the stream with
   * `end` `{"reason":"unauthorized"}`). True: the caller takes over (splits the refused
   * channels off and reconnects the rest) and this connection closes without a word; false
   * or absent: it reports `closed` with the server's error.
   */
  onRefused?(refusal: Refusal): boolean;
}

/** A refusal for good, as the server gave it. */
export interface Refusal {
  status: number;
  code: string | null;
  message: string;
}

/** A connection is dead after this many heartbeat intervals without a byte. */
export const SILENCE_FACTOR = 2.5;
const DEFAULT_HEARTBEAT_MS = 15_000;
const HEARTBEAT_COMMENT = /^\s*heartbeat-ms=(\d+)\s*$/;

/** The server's hello arrives with its headers; this long without it means a buffering proxy. */
export const FIRST_BYTE_MS = 3000;

/** What the page is told when the stream's first bytes are held back. */
export const PROXY_BUFFERING_MESSAGE =
  "the stream's first bytes did not arrive: a proxy in between may be buffering it (nginx: proxy_buffering off for /stream; see Deployment)";
const REAL_CLOCK: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/** What a refusal means, from its JSON error code first, its status second. */
export function classifyRefusal(status: number, code: string | null): "stop" | "token" | "retry" {
  // Every defect of a token (`token_expired`, `token_required`, `token_bad_signature`, …):
  // a fresh one may help.
  if (code?.startsWith("token_")) return "token";
  if (code === "channel_forbidden" || status === 401 || status === 403) return "token";
  if (status === 408 || status === 429 || status >= 500) return "retry";
  if (status >= 400) return "stop";
  return "retry";
}

export class StreamConnection {
  private readonly positions: Map<string, string>;
  private readonly clock: Clock;
  private readonly random: () => number;
  private state: StreamState = CONNECTING_STATE;
  private abort: AbortController | null = null;
  private retryTimer: unknown;
  /** Reports a buffering proxy if a connect's first byte does not come (FIRST_BYTE_MS). */
  private firstByteTimer: unknown;
  private watchdog: unknown;
  private heartbeatMs: number;
  private lastByteAt = 0;
  /** A fresh token was asked for after a refusal: a second refusal stops. */
  private tokenRetried = false;
  private stopped = false;
  /** Stopped by the server's refusal (not `close`): the page may ask again (`reconnect`). */
  private refusedForGood = false;
  /** The stream said `end` `{"reason":"unauthorized"}`: its clean end is a refusal. */
  private endedUnauthorized = false;

  constructor(private readonly options: StreamConnectionOptions) {
    this.positions = new Map(options.positions);
    this.clock = options.clock ?? REAL_CLOCK;
    this.random = options.random ?? Math.random;
    this.heartbeatMs = options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
  }

  get channels(): readonly string[] {
    return this.options.channels;
  }

  /** Positions known per channel (history ids). */
  currentPositions(): ReadonlyMap<string, string> {
    return this.positions;
  }

  currentState(): StreamState {
    return this.state;
  }

  /** Opens the stream; it then keeps itself open until `close`. */
  start(): void {
    void this.connect();
  }

  /** Closes for good. */
  close(): void {
    this.stopped = true;
    this.teardown();
    this.setState({ status: "closed", retryAt: null });
  }

  /**
   * Drops the connection and opens a new one at once that resumes where this one was; after
   * a refusal, this is the page asking again (a login came back).
   */
  reconnect(): void {
    if (this.stopped && !this.refusedForGood) return;
    this.stopped = false;
    this.refusedForGood = false;
    this.tokenRetried = false;
    this.teardown();
    void this.connect();
  }

  /**
   * Something suggests the network is back (`online`, a tab visible again, a wake from
   * sleep): a pending retry starts now, and an open stream that has been silent too long is
   * replaced.
   */
  wake(): void {
    if (this.stopped) return;
    if (this.state.status === "reconnecting" && this.abort === null) {
      this.reconnect();
      return;
    }
    if (this.state.status === "open") this.checkSilence();
  }

  private setState(patch: Partial<StreamState>): void {
    this.state = { ...this.state, ...patch };
    this.options.onState?.(this.state);
  }

  private teardown(): void {
    this.abort?.abort();
    this.abort = null;
    this.clock.clearTimeout(this.retryTimer);
    this.clock.clearTimeout(this.watchdog);
    this.clock.clearTimeout(this.firstByteTimer);
  }

  private streamUrl(): string {
    const [path, query = ""] = this.options.url.split("?");
    const params = new URLSearchParams(query);
    params.delete("channel");
    for (const channel of this.options.channels) params.append("channel", channel);
    const { rewind } = this.options;
    if (rewind && this.options.channels.some((channel) => !this.positions.has(channel))) {
      params.set("rewind", String(rewind));
    }
    return `${path}?${params}`;
  }

  /** Last-Event-ID naming only channels with a known position; null when none has one. */
  resumeId(): string | null {
    const { channels } = this.options;
    if (channels.length === 1) return this.positions.get(channels[0]) ?? null;
    const known = channels.filter((channel) => this.positions.has(channel));
    return known.length === 0 ? null : encodeMultiChannelId("", channels, this.positions);
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const abort = new AbortController();
    this.abort = abort;
    this.setState({
      status: this.state.status === "connecting" ? "connecting" : "reconnecting",
      retryAt: null,
    });
    const headers: Record<string, string> = { Accept: "text/event-stream" };
    if (this.options.getToken) {
      let token: string | null;
      try {
        token = await this.options.getToken(this.options.channels);
      } catch {
        if (!abort.signal.aborted) this.retryLater("could not get a token", "token_unavailable");
        return;
      }
      if (token) headers.Authorization = `Bearer ${token}`;
    }
    const resume = this.resumeId();
    if (resume !== null) headers["Last-Event-ID"] = resume;
    if (abort.signal.aborted) return;
    // The silence rule holds from here: a connect that gets no answer (a dead keep-alive
    // connection, a proxy that hangs) is given up like a stream that went quiet.
    this.lastByteAt = this.clock.now();
    this.armWatchdog();
    // The server's hello comes with its headers: when neither comes, something between holds
    // the stream back (a proxy that buffers), and the page is told, not left guessing.
    this.clock.clearTimeout(this.firstByteTimer);
    this.firstByteTimer = this.clock.setTimeout(() => {
      if (abort.signal.aborted) return;
      this.setState({ error: PROXY_BUFFERING_MESSAGE, errorCode: "proxy_buffering" });
    }, FIRST_BYTE_MS);
    let response: Response;
    try {
      response = await (this.options.fetch ?? fetch)(this.streamUrl(), {
        headers,
        signal: abort.signal,
        cache: "no-store",
        credentials: "same-origin",
      });
    } catch {
      this.clock.clearTimeout(this.firstByteTimer);
      if (!abort.signal.aborted) this.retryLater("the server could not be reached", null);
      return;
    }
    const type = response.headers.get("content-type") ?? "";
    if (!response.ok || !type.startsWith("text/event-stream") || response.body === null) {
      this.clock.clearTimeout(this.firstByteTimer);
      await this.refused(response, abort);
      return;
    }
    await this.read(response.body, abort);
  }

  private async refused(response: Response, abort: AbortController): Promise<void> {
    const body = (await response.json().catch(() => null)) as {
      error?: { code?: string; message?: string };
    } | null;
    if (abort.signal.aborted) return;
    const code = body?.error?.code ?? null;
    const message = body?.error?.message ?? `the server answered ${response.status}`;
    const action = response.ok ? "retry" : classifyRefusal(response.status, code);
    if (action === "token" && this.options.getToken && !this.tokenRetried) {
      // Once: a fresh token, at once. A second refusal means the app cannot have one.
      this.tokenRetried = true;
      this.abort = null;
      this.setState({ error: message, errorCode: code });
      void this.connect();
      return;
    }
    if (action === "retry") {
      const retryAfter = parseRetryAfter(response.headers.get("retry-after"), this.clock.now());
      this.retryLater(message, code, retryAfter);
      return;
    }
    this.refuse({ status: response.status, code, message });
  }

  /** Stops for good after a refusal: the caller splits it, or it reports `closed`. */
  private refuse(refusal: Refusal): void {
    this.stopped = true;
    this.refusedForGood = true;
    this.abort = null;
    this.clock.clearTimeout(this.watchdog);
    if (this.options.channels.length > 1 && this.options.onRefused?.(refusal)) return;
    this.setState({
      status: "closed",
      retryAt: null,
      error: refusal.message,
      errorCode: refusal.code,
    });
  }

  private async read(body: ReadableStream<Uint8Array>, abort: AbortController): Promise<void> {
    let cleanEnd = false;
    const parser = createParser({
      onEvent: (message) => this.receive(message),
      onRetry: (ms) => {
        // `retry: 0` (older servers) also ends a stream on purpose.
        if (ms === 0) cleanEnd = true;
      },
      onComment: (comment) => {
        // The server ends the stream on purpose (a deploy, a lifetime): a clean end.
        if (comment.trim() === RECONNECT_COMMENT) cleanEnd = true;
        const match = HEARTBEAT_COMMENT.exec(comment);
        if (match === null || Number(match[1]) === this.heartbeatMs) return;
        this.heartbeatMs = Number(match[1]);
        this.armWatchdog();
      },
    });
    this.tokenRetried = false;
    this.endedUnauthorized = false;
    this.lastByteAt = this.clock.now();
    this.setState({ status: "open", attempt: 0, retryAt: null, error: null, errorCode: null });
    this.armWatchdog();
    const reader = body.getReader();
    const decoder = new TextDecoder();
    let firstByte = false;
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        if (!firstByte) {
          firstByte = true;
          this.clock.clearTimeout(this.firstByteTimer);
        }
        this.lastByteAt = this.clock.now();
        parser.feed(decoder.decode(value, { stream: true }));
      }
    } catch {
      this.clock.clearTimeout(this.firstByteTimer);
      if (abort.signal.aborted) return;
      this.retryLater("the connection dropped", null);
      return;
    }
    this.clock.clearTimeout(this.firstByteTimer);
    if (abort.signal.aborted) return;
    if (cleanEnd && this.endedUnauthorized) {
      // Access ended (a logout): not retried until the page asks again.
      this.refuse({ status: 401, code: "unauthorized", message: "access to the channel ended" });
    } else if (cleanEnd) {
      this.abort = null;
      this.clock.clearTimeout(this.watchdog);
      this.schedule(cleanEndDelay(this.random));
    } else this.retryLater("the stream ended", null);
  }

  private receive(message: EventSourceMessage): void {
    const { channels } = this.options;
    const id = message.id;
    let channel = channels.length === 1 ? channels[0] : "";
    let position: string | undefined;
    if (id !== undefined && id !== "") {
      if (id.includes("/")) {
        // Several channels: the id names the event's channel (none on a position event)
        // and every position.
        const decoded = decodeLastEventId(id, channels);
        const named = channelOfId(id);
        if (named !== undefined) {
          channel = named;
          position = decoded?.get(named);
          const previous = this.positions.get(named);
          if (position !== undefined && previous !== undefined) {
            if (compareStreamIds(position, previous) <= 0) return;
          }
        }
        for (const [name, at] of decoded ?? []) advancePosition(this.positions, name, at);
      } else if (isStreamId(id)) {
        position = id;
        const previous = this.positions.get(channel);
        if (previous !== undefined && compareStreamIds(id, previous) <= 0) return;
        for (const name of channels) advancePosition(this.positions, name, id);
      }
      this.setState({ lastEventId: id });
    }
    const type = message.event || "message";
    if (type === END_EVENT && endReason(message.data) === "unauthorized") {
      this.endedUnauthorized = true;
    }
    this.options.onEvent({
      type,
      data: message.data,
      id,
      channel,
      position,
      positions: type === POSITION_EVENT ? [...this.positions] : undefined,
    });
  }

  private retryLater(error: string, code: string | null, retryAfterMs?: number): void {
    this.teardown();
    const attempt = this.state.attempt;
    this.setState({ attempt: attempt + 1, error, errorCode: code });
    this.schedule(backoffDelay(attempt, this.random, retryAfterMs));
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.setState({ status: "reconnecting", retryAt: this.clock.now() + delayMs });
    this.retryTimer = this.clock.setTimeout(() => {
      this.retryTimer = undefined;
      void this.connect();
    }, delayMs);
  }

  /** Checks for silence every half heartbeat: a stream with no byte for 2.5 is dead. */
  private armWatchdog(): void {
    this.clock.clearTimeout(this.watchdog);
    if (this.heartbeatMs <= 0) return;
    this.watchdog = this.clock.setTimeout(() => {
      if (!this.checkSilence()) this.armWatchdog();
    }, this.heartbeatMs / 2);
  }

  /** True when the stream was silent too long and is being replaced. */
  private checkSilence(): boolean {
    if (this.heartbeatMs <= 0 || this.abort === null) return false;
    const silentMs = this.clock.now() - this.lastByteAt;
    if (silentMs <= this.heartbeatMs * SILENCE_FACTOR) return false;
    this.retryLater(`no data for ${Math.round(silentMs / 1000)} s`, "silent");
    return true;
  }
}

function endReason(data: string): unknown {
  try {
    return (JSON.parse(data) as { reason?: unknown } | null)?.reason;
  } catch {
    return undefined;
  }
}
