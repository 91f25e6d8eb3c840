import "server-only";
import type { Broker, FrameListener } from "@/lib/broker";
import type { ChannelHistory, Replay } from "@/lib/history/types";
import { streamCounters } from "@/lib/ops/counters";
import { Rounds } from "@/lib/ops/rounds";
import { POSITION_EVENT, RESET_EVENT, type ResetData } from "@/lib/sse/events";
import { encodeEvent, frameBytes, positionFrame, replaceFrameId } from "@/lib/sse/frame";
import { compareStreamIds, decodeLastEventId, encodeMultiChannelId } from "@/lib/sse/ids";
import type { StreamLifecycle } from "@/lib/stream/lifecycle";
import type { Outbox } from "@/lib/stream/outbox";

/** Events per history read while catching up (later pages wait for the client to read). */
const REPLAY_PAGE = 100;

/** Whether a read stopped at its limit (older brokers: judged by what it returned). */
function hasMore(replay: Replay): boolean {
  return replay.more ?? replay.entries.length >= REPLAY_PAGE;
}

interface Buffered {
  frame: Uint8Array;
  id: string | undefined;
  channel: string;
}

/** Events to show first per channel without a position: one number for all, or one each. */
export type Rewind = number | ReadonlyMap<string, number>;

/**
 * What one stream reads: its channels, from where, and what it tells the client. A session
 * subscribes, replays history after the client's Last-Event-ID, keeps one position per
 * channel, drops live events the replay already sent, and catches up again when the broker
 * recovers from a lost subscription. It writes frames to its outbox and nothing else.
 */
export class Session {
  /** Position per channel. A Map: channel names are client input (`__proto__` is one). */
  readonly positions = new Map<string, string>();
  private readonly multi: boolean;
  /** The stream's life, shared with its outbox: the phase says whether live events flow. */
  private readonly life: StreamLifecycle;
  /** The broker may be missing events (`lost`): live ones wait for the catch-up. */
  private paused = false;
  /**
   * Catch-ups: the first (from `opening`), then one per broker recovery. A recovery that
   * comes during one asks for one more after it: what was published between its reads and
   * the re-subscription reached neither.
   */
  private readonly catchUps = new Rounds();
  private buffered: Buffered[] = [];
  private bufferedBytes = 0;
  /** Live events were dropped from the buffer during a replay: read history once more. */
  private bufferOverflowed = false;
  private readonly offRecover: () => void;
  private readonly counters = streamCounters();
  /** Events to show first on channels the client has no position in (`?rewind=`), at start. */
  private rewind: Rewind = 0;

  readonly listener: FrameListener = (frame, id, channel) => {
    if (this.life.closed) return;
    if (this.life.flowing && !this.paused) {
      this.deliver(frame, id, channel);
      return;
    }
    // Live events wait while history is replayed, within the backlog bound. Past it, one
    // with an id is dropped (history has it: the replay reads it later); one without (a
    // Flask-SSE envelope, never kept) cannot be, so the stream ends and the client resumes.
    if (this.bufferedBytes + frame.byteLength > this.maxBufferedBytes) {
      if (id === undefined) this.outbox.end();
      else this.bufferOverflowed = true;
      return;
    }
    this.buffered.push({ frame, id, channel });
    this.bufferedBytes += frame.byteLength;
  };

  constructor(
    private readonly broker: Broker,
    readonly channels: readonly string[],
    private readonly outbox: Outbox,
    /** Bytes of live events held while history is replayed (SSE_MAX_BACKLOG_BYTES). */
    private readonly maxBufferedBytes: number,
    /** Bytes of history one catch-up sends before it resets instead (SSE_MAX_REPLAY_BYTES). */
    private readonly maxReplayBytes: number,
    /** Internal channels forwarded as they come, no positions, no history (members events). */
    private readonly noticeChannels: readonly string[] = [],
  ) {
    this.multi = channels.length > 1;
    this.life = outbox.lifecycle;
    // Nothing to catch up on without history: live events flow from the start.
    if (!broker.history) this.life.goLive();
    this.offRecover = broker.history
      ? broker.onRecover((phase) => {
          // Lost: hold live events and keep positions, so none moves them past the gap.
          if (phase === "lost") this.paused = true;
          else void this.recover();
        })
      : () => {};
  }

  /**
   * Subscribes to every channel and replays what the client missed since `lastEventId`.
   * Done once every subscription is confirmed, so every event published from then on
   * reaches the stream: at once (undefined) for a new stream on channels the broker is
   * subscribed to and knows the newest position of, the usual case, which then costs no
   * promise; else when the returned promise resolves.
   * @throws BrokerUnavailableError when the broker cannot subscribe or read in time.
   */
  start(lastEventId: string | null, rewind: Rewind = 0): Promise<void> | undefined {
    this.rewind = rewind;
    const subscribed = this.subscribeAll();
    if (subscribed === undefined && !lastEventId && rewind === 0 && this.startAtNewest()) {
      return undefined;
    }
    return this.startCatchingUp(subscribed, lastEventId);
  }

  /** Undefined when every subscription is confirmed already. */
  private subscribeAll(): Promise<unknown> | undefined {
    // One channel (the usual case): no array, no Promise.all.
    if (this.channels.length === 1 && this.noticeChannels.length === 0) {
      return this.broker.subscribe(this.channels[0], this.listener);
    }
    const pending: Promise<void>[] = [];
    for (const channel of [...this.channels, ...this.noticeChannels]) {
      const subscribed = this.broker.subscribe(channel, this.listener);
      if (subscribed !== undefined) pending.push(subscribed);
    }
    return pending.length === 0 ? undefined : Promise.all(pending);
  }

  /**
   * A new stream whose every channel's newest position the broker knows without asking:
   * nothing to replay, so it starts there now. False when a channel needs a history read.
   */
  private startAtNewest(): boolean {
    const history = this.broker.history;
    if (history) {
      // Subscriptions were lost meanwhile: where they stand is read, not known.
      if (this.paused || this.catchUps.askedAgain) return false;
      const heads: string[] = [];
      for (const channel of this.channels) {
        const head = history.newestKnown(channel);
        if (head === undefined) return false;
        heads.push(head);
      }
      this.channels.forEach((channel, i) => {
        this.positions.set(channel, heads[i]);
      });
      const position = this.multi
        ? encodeMultiChannelId("", this.channels, this.positions)
        : heads[0];
      this.outbox.push(positionFrame(POSITION_EVENT, position));
    }
    this.life.goLive();
    return true;
  }

  private async startCatchingUp(
    subscribed: Promise<unknown> | undefined,
    lastEventId: string | null,
  ): Promise<void> {
    await subscribed;
    let forceGap = false;
    if (lastEventId) {
      const positions = decodeLastEventId(lastEventId, this.channels);
      if (positions === undefined) forceGap = true;
      else for (const [channel, id] of positions) this.positions.set(channel, id);
    }
    // Answer once the first page of history is queued; the rest follows as the client reads.
    // A page that fails (Redis gone mid-replay) ends the stream, and the client resumes; if
    // it was the first, start() fails with it (what comes after the answer is a no-op).
    return new Promise<void>((resolve, reject) => {
      this.catchUps
        .run((first) => (first ? this.catchUp(forceGap, resolve) : this.catchUp()))
        .then(resolve, (error: unknown) => {
          this.outbox.end();
          reject(error);
        });
    });
  }

  private deliver(frame: Uint8Array, id: string | undefined, channel: string): void {
    if (this.noticeChannels.length > 0 && this.noticeChannels.includes(channel)) {
      this.outbox.push(frame);
      return;
    }
    if (id !== undefined) {
      // A live event can arrive after the replay that already sent it: the history read
      // and the pub/sub message travel on different connections. Positions only grow.
      const position = this.positions.get(channel);
      if (position !== undefined && compareStreamIds(id, position) <= 0) return;
      this.positions.set(channel, id);
    }
    this.counters.delivered++;
    if (!this.multi) {
      this.outbox.push(frame);
      return;
    }
    // Several channels: the id names the event's channel and every position, so
    // Last-Event-ID can resume them all and the client knows the source.
    const [body, idLine] = replaceFrameId(
      frame,
      id,
      encodeMultiChannelId(channel, this.channels, this.positions),
    );
    this.outbox.push(body);
    this.outbox.push(idLine);
  }

  /**
   * Replays history after the stream's positions, then the live events that arrived in the
   * meantime, minus those the replay already sent. Positions history cannot resume from
   * (or an unreadable Last-Event-ID: `forceGap`) get one `reset` event. History is read in
   * pages of REPLAY_PAGE events; after the first, each waits until the client has read
   * (`outbox.room()`), so a resume of any size completes without ever being dropped as a
   * slow consumer. Past `maxReplayBytes`, the rest of a channel is not worth sending: it gets
   * a `reset` and the stream goes on from the channel's newest event. `firstPage` is called
   * once the first page is queued (the stream can answer then).
   */
  private async catchUp(forceGap = false, firstPage?: () => void): Promise<void> {
    const { channels } = this;
    const history = this.broker.history;
    if (!history) {
      firstPage?.();
      return;
    }
    this.life.startReplay();
    try {
      // Channels without a position start at the live end, or `rewind` events before it.
      const rewind = this.rewind;
      this.rewind = 0;
      const rewindOf = (ch: string) =>
        typeof rewind === "number" ? rewind : (rewind.get(ch) ?? 0);
      const read = (ch: string) =>
        rewindOf(ch) > 0 && !forceGap && !this.positions.has(ch)
          ? history.readLatest(ch, rewindOf(ch))
          : history.readSince(ch, forceGap ? undefined : this.positions.get(ch), REPLAY_PAGE);
      const replays =
        channels.length === 1 ? [await read(channels[0])] : await Promise.all(channels.map(read));
      if (this.life.closed) return;
      const gaps = channels.filter((_, i) => forceGap || replays[i].gap);
      if (gaps.length > 0) this.pushReset(gaps);
      let unfinished: string[] = [];
      let replayedBytes = 0;
      // A page is bounded in bytes too: 100 large events would otherwise sit unread in a
      // web stream's queue (the route handler's sink) past the slow-consumer bound.
      let budget = this.maxBufferedBytes / 2;
      channels.forEach((channel, i) => {
        const replay = replays[i];
        // A gap or no position: start from what this read says (a rewind's events, then
        // its newest id), not from the old position.
        const fresh = gaps.includes(channel) || !this.positions.has(channel);
        if (fresh) this.positions.delete(channel);
        const { bytes, cut } = this.replay(channel, replay, budget);
        replayedBytes += bytes;
        budget -= bytes;
        if (fresh && !this.positions.has(channel)) this.positions.set(channel, replay.lastId);
        if (cut || hasMore(replay)) unfinished.push(channel);
      });
      firstPage?.();
      while (unfinished.length > 0 || this.bufferOverflowed) {
        if (unfinished.length === 0) unfinished = this.rereadDropped();
        await this.outbox.room();
        if (this.life.closed) return;
        if (replayedBytes > this.maxReplayBytes) {
          await this.skipToNewest(history, unfinished);
          break;
        }
        const pages = await Promise.all(
          unfinished.map((ch) => history.readSince(ch, this.positions.get(ch), REPLAY_PAGE)),
        );
        if (this.life.closed) return;
        const next: string[] = [];
        let pageBudget = this.maxBufferedBytes / 2;
        unfinished.forEach((channel, i) => {
          const page = pages[i];
          if (page.gap) {
            // Trimmed while we paged: what the client missed is gone.
            this.pushReset([channel]);
            this.positions.set(channel, page.lastId);
            return;
          }
          const { bytes, cut } = this.replay(channel, page, pageBudget);
          replayedBytes += bytes;
          pageBudget -= bytes;
          if (cut || hasMore(page)) next.push(channel);
        });
        unfinished = next;
      }
      // The last page read before live events count against the bound again.
      if (replayedBytes > 0) {
        await this.outbox.room();
        if (this.life.closed) return;
      }
      for (const { frame, id, channel } of this.buffered) this.deliver(frame, id, channel);
      // Where the client stands, even when nothing was replayed.
      const position = this.multi
        ? encodeMultiChannelId("", channels, this.positions)
        : (this.positions.get(channels[0]) as string);
      this.outbox.push(positionFrame(POSITION_EVENT, position));
    } catch (error) {
      firstPage = undefined; // start() fails with the error instead
      throw error;
    } finally {
      this.buffered = [];
      this.bufferedBytes = 0;
      this.bufferOverflowed = false;
      this.life.goLive();
      // A stream closed before its first page still answers start() (the client is gone).
      firstPage?.();
    }
  }

  /**
   * Delivers replayed entries, at least one and then as many as `budget` bytes allow;
   * returns their size and whether some were left (`cut`: read again from the position).
   * The position moves through the events moderation deleted too, so the next page starts
   * after them.
   */
  private replay(
    channel: string,
    { entries, through }: Replay,
    budget: number,
  ): { bytes: number; cut: boolean } {
    let bytes = 0;
    let sent = 0;
    for (const entry of entries) {
      if (sent > 0 && bytes + entry.frame.byteLength > budget) break;
      bytes += entry.frame.byteLength;
      sent++;
      this.deliver(entry.frame, entry.id, channel);
    }
    this.counters.replayed += sent;
    if (sent < entries.length) return { bytes, cut: true };
    const position = this.positions.get(channel);
    if (
      through !== undefined &&
      position !== undefined &&
      compareStreamIds(through, position) > 0
    ) {
      this.positions.set(channel, through);
    }
    return { bytes, cut: false };
  }

  private pushReset(channels: string[]): void {
    this.counters.resets++;
    const reset: ResetData = { channels };
    this.outbox.push(frameBytes(encodeEvent({ type: RESET_EVENT, data: reset })));
  }

  /** A replay too large to be worth it: `reset` for these channels, then their newest event. */
  private async skipToNewest(history: ChannelHistory, channels: string[]): Promise<void> {
    const heads = await Promise.all(channels.map((ch) => history.readSince(ch, undefined)));
    this.pushReset(channels);
    channels.forEach((channel, i) => {
      this.positions.set(channel, heads[i].lastId);
    });
    this.buffered = this.buffered.filter((event) => event.id === undefined);
    this.bufferedBytes = 0;
    this.bufferOverflowed = false;
  }

  /**
   * Live events were dropped from the bounded buffer during the replay: they are in history,
   * so forget the buffered ones that are too and read every channel once more.
   */
  private rereadDropped(): string[] {
    this.buffered = this.buffered.filter((event) => event.id === undefined);
    this.bufferedBytes = this.buffered.reduce((sum, event) => sum + event.frame.byteLength, 0);
    this.bufferOverflowed = false;
    return [...this.channels];
  }

  /** After a broker reconnect: catch up, or end the stream so the browser resumes itself. */
  private async recover(): Promise<void> {
    if (this.life.closed) return;
    // Held events are released by the catch-up (it starts catching up in this same turn).
    this.paused = false;
    // Still opening: the first catch-up has not begun, and answers this once it has run.
    if (this.life.phase === "opening") {
      this.catchUps.ask();
      return;
    }
    try {
      await this.catchUps.run(() => this.catchUp());
    } catch {
      this.outbox.end();
    }
  }

  /** Detaches from the broker: released once, when the stream's lifecycle closes. */
  close(): void {
    this.buffered = [];
    this.offRecover();
    for (const channel of [...this.channels, ...this.noticeChannels]) {
      this.broker.unsubscribe(channel, this.listener);
    }
  }
}
