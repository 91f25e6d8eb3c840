import "server-only";

/**
 * Finds subscriptions that stopped delivering. A failover can leave one believed confirmed
 * while the shard connection behind it is gone, or its slot moved to a new master without a
 * re-subscribe: the channel's streams then open normally and receive nothing, ever. So every
 * subscribed channel that has been quiet for an interval gets a probe: a message published
 * through the same path as events (the pub/sub channel, on the node that owns it), which
 * this process must see come back within the next interval. A channel that passes messages
 * needs no probe. A probe that is published but never seen is a verdict: the channel is
 * repaired (subscribed again, and its streams catch up from history); twice in a row, the
 * subscriber connection is rebuilt.
 */

/** Marks a probe on the wire: no event frame or JSON envelope starts with NUL. */
export const PROBE_PREFIX = "\u0000next-sse:probe ";
const PROBE_BYTES = Buffer.from(PROBE_PREFIX);

export interface SubscriptionAuditOptions {
  /** Quiet time before a probe, and the time a probe has to come back (ms). */
  intervalMs: number;
  /** Names this process in its probes, so it ignores other processes' ones. */
  token: string;
  /** Channels whose subscription is confirmed and wanted now. */
  channels(): Iterable<string>;
  /** Publishes a probe on the channel's pub/sub channel; rejects when it could not. */
  publish(channel: string, payload: string): Promise<unknown>;
  /** Subscribes these channels again (`rebuild`: on a new connection) and catches up. */
  repair(channels: string[], rebuild: boolean): Promise<void>;
  /** Called every round, before the probes. */
  tick?: () => void;
  now?: () => number;
}

export class SubscriptionAudit {
  private readonly lastSeen = new Map<string, number>();
  /** Probes out: when each was published (Infinity until Redis took it). */
  private readonly pending = new Map<string, { payload: string; at: number }>();
  private readonly strikes = new Map<string, number>();
  private timer: ReturnType<typeof setInterval> | undefined;
  private sequence = 0;
  private running = false;
  private readonly now: () => number;

  constructor(private readonly options: SubscriptionAuditOptions) {
    this.now = options.now ?? Date.now;
  }

  start(): void {
    if (this.timer !== undefined || this.options.intervalMs <= 0) return;
    this.timer = setInterval(() => void this.tick(), this.options.intervalMs / 2);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /**
   * A message arrived on a channel: its subscription works. True when it is a probe, which
   * is not for streams.
   */
  seen(channel: string, message: Buffer): boolean {
    this.lastSeen.set(channel, this.now());
    // Every message passes here: events start with a letter or `{`, a probe with NUL.
    if (message[0] !== 0) return false;
    if (!message.subarray(0, PROBE_BYTES.length).equals(PROBE_BYTES)) return false;
    const pending = this.pending.get(channel);
    if (pending !== undefined && message.toString() === pending.payload) {
      this.pending.delete(channel);
      this.strikes.delete(channel);
    }
    return true;
  }

  /** One round: verdicts on the probes out, new probes for quiet channels, repairs. */
  async tick(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      this.options.tick?.();
      const now = this.now();
      const { intervalMs } = this.options;
      const failed: string[] = [];
      const wanted = new Set(this.options.channels());
      for (const channel of wanted) {
        const pending = this.pending.get(channel);
        if (pending !== undefined) {
          if (now - pending.at < intervalMs) continue;
          this.pending.delete(channel);
          failed.push(channel);
          continue;
        }
        if (now - (this.lastSeen.get(channel) ?? 0) < intervalMs) continue;
        this.probe(channel);
      }
      for (const map of [this.lastSeen, this.pending, this.strikes]) {
        for (const channel of map.keys()) if (!wanted.has(channel)) map.delete(channel);
      }
      if (failed.length === 0) return;
      let rebuild = false;
      for (const channel of failed) {
        const strikes = (this.strikes.get(channel) ?? 0) + 1;
        this.strikes.set(channel, strikes);
        if (strikes >= 2) rebuild = true;
      }
      if (rebuild) for (const channel of failed) this.strikes.delete(channel);
      await this.options.repair(failed, rebuild);
    } catch {
      // A repair that failed leaves its channels quiet: the next rounds probe them again.
    } finally {
      this.running = false;
    }
  }

  private probe(channel: string): void {
    const payload = `${PROBE_PREFIX}${this.options.token}:${++this.sequence}`;
    const entry = { payload, at: Number.POSITIVE_INFINITY };
    this.pending.set(channel, entry);
    this.options.publish(channel, payload).then(
      // The clock starts when Redis took it: a probe queued through a failover is no verdict.
      () => {
        entry.at = this.now();
      },
      () => {
        if (this.pending.get(channel) === entry) this.pending.delete(channel);
      },
    );
  }
}
