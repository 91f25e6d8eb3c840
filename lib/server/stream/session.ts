import "server-only";
import type { Broker, FrameListener } from "@/lib/server/broker";
import type { Outbox } from "@/lib/server/stream/outbox";
import { streamCounters } from "@/lib/server/stream/registry";
import { POSITION_EVENT, RESET_EVENT, type ResetData } from "@/lib/sse/events";
import { encodeEvent, frameBytes, positionFrame, replaceFrameId } from "@/lib/sse/frame";
import { compareStreamIds, decodeLastEventId, encodeMultiChannelId } from "@/lib/sse/ids";

interface Buffered {
  frame: Uint8Array;
  id: string | undefined;
  channel: string;
}

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
  private catchingUp: boolean;
  /** A broker recovery came during a catch-up: catch up once more after it. */
  private recoverAgain = false;
  private buffered: Buffered[] = [];
  private closed = false;
  private readonly offRecover: () => void;
  private readonly counters = streamCounters();

  readonly listener: FrameListener = (frame, id, channel) => {
    if (this.closed) return;
    if (this.catchingUp) this.buffered.push({ frame, id, channel });
    else this.deliver(frame, id, channel);
  };

  constructor(
    private readonly broker: Broker,
    readonly channels: readonly string[],
    private readonly outbox: Outbox,
  ) {
    this.multi = channels.length > 1;
    this.catchingUp = broker.history;
    this.offRecover = broker.history ? broker.onRecover(() => void this.recover()) : () => {};
  }

  /**
   * Subscribes to every channel and replays what the client missed since `lastEventId`.
   * Resolves once every subscription is confirmed, so every event published from then on
   * reaches the stream.
   * @throws BrokerUnavailableError when the broker cannot subscribe or read in time.
   */
  async start(lastEventId: string | null): Promise<void> {
    await Promise.all(this.channels.map((ch) => this.broker.subscribe(ch, this.listener)));
    let forceGap = false;
    if (lastEventId) {
      const positions = decodeLastEventId(lastEventId, this.channels);
      if (positions === undefined) forceGap = true;
      else for (const [channel, id] of positions) this.positions.set(channel, id);
    }
    await this.catchUp(forceGap);
  }

  private deliver(frame: Uint8Array, id: string | undefined, channel: string): void {
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
   * (or an unreadable Last-Event-ID: `forceGap`) get one `reset` event.
   */
  private async catchUp(forceGap = false): Promise<void> {
    const { broker, channels } = this;
    if (!broker.history) return;
    this.catchingUp = true;
    try {
      const replays = await Promise.all(
        channels.map((ch) => broker.readSince(ch, forceGap ? undefined : this.positions.get(ch))),
      );
      if (this.closed) return;
      const gaps = channels.filter((_, i) => forceGap || replays[i].gap);
      if (gaps.length > 0) {
        this.counters.resets++;
        const reset: ResetData = { channels: gaps };
        this.outbox.push(frameBytes(encodeEvent({ type: RESET_EVENT, data: reset })));
      }
      channels.forEach((channel, i) => {
        const replay = replays[i];
        if (gaps.includes(channel) || !this.positions.has(channel)) {
          this.positions.set(channel, replay.lastId);
        }
        this.counters.replayed += replay.entries.length;
        for (const entry of replay.entries) this.deliver(entry.frame, entry.id, channel);
      });
      for (const { frame, id, channel } of this.buffered) this.deliver(frame, id, channel);
      // Where the client stands, even when nothing was replayed.
      const position = this.multi
        ? encodeMultiChannelId("", channels, this.positions)
        : (this.positions.get(channels[0]) as string);
      this.outbox.push(positionFrame(POSITION_EVENT, position));
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
      this.outbox.end();
    }
  }

  /** Idempotent: detaches from the broker. The outbox is closed by whoever owns it. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.buffered = [];
    this.offRecover();
    for (const channel of this.channels) this.broker.unsubscribe(channel, this.listener);
  }
}
