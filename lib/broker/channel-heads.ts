import "server-only";
import { compareStreamIds, ORIGIN_ID } from "@/lib/sse/ids";

/**
 * The newest history id of each subscribed channel, as seen on a subscription that has not
 * dropped since. A stream that starts now (no Last-Event-ID) or at that very id needs no
 * history read: after a channel's first read has answered, a burst of connects or reconnects
 * costs Redis nothing. Everything here errs towards a read: a head is recorded only while
 * nothing can have passed unseen.
 */
export class ChannelHeads {
  private readonly heads = new Map<string, string>();
  /**
   * Channels whose current SUBSCRIBE is confirmed. A message of an earlier subscription can
   * still arrive before that confirmation, after a gap this process never saw: not a head.
   */
  private readonly confirmed = new Set<string>();
  private trusted = true;
  /** Subscriber drops so far, so a read that spans one is not recorded. */
  private drops = 0;

  /**
   * @param maxAgeMs how long after its publish a head may be served: history expires its
   * TTL after the last publish, so half the TTL leaves room for clock skew with Redis.
   * @param enabled false records nothing (sharded subscribers reconnect shard by shard,
   * which this does not follow).
   */
  constructor(
    private readonly maxAgeMs: number,
    private readonly enabled = true,
  ) {}

  /** The channel's SUBSCRIBE is confirmed: from now on every message of it passes by. */
  confirm(channel: string): void {
    this.confirmed.add(channel);
  }

  /** The channel was unsubscribed. */
  forget(channel: string): void {
    this.confirmed.delete(channel);
    this.heads.delete(channel);
  }

  /** The subscriber connection dropped: events may pass unseen until `restored`. */
  lost(): void {
    this.drops++;
    this.trusted = false;
    this.heads.clear();
  }

  /** Every subscription is back (streams now catch up from Redis). */
  restored(): void {
    this.heads.clear();
    this.trusted = true;
  }

  /** A live event's id on the channel. */
  see(channel: string, id: string): void {
    if (!this.enabled || !this.trusted || !this.confirmed.has(channel)) return;
    const head = this.heads.get(channel);
    if (head === undefined || compareStreamIds(id, head) > 0) this.heads.set(channel, id);
  }

  /** Taken before a history read, for `seeRead` with its answer. */
  readTicket(): number {
    return this.trusted ? this.drops : -1;
  }

  /**
   * A history read's last id, recorded only if the read was sent and answered with the
   * subscription up throughout: otherwise events between its answer and the
   * re-subscription reached this process neither way.
   */
  seeRead(ticket: number, channel: string, lastId: string): void {
    if (ticket === this.drops) this.see(channel, lastId);
  }

  /** The channel's newest id, if known and young enough; a channel never published to is 0-0. */
  newest(channel: string, now = Date.now()): string | undefined {
    const head = this.heads.get(channel);
    if (head === undefined || head === ORIGIN_ID) return head;
    const publishedAt = Number(head.slice(0, head.indexOf("-")));
    return now - publishedAt < this.maxAgeMs ? head : undefined;
  }
}
