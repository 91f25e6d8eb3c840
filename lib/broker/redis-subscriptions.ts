import "server-only";
import type { ChannelHeads } from "@/lib/broker/channel-heads";
import { ChannelListeners } from "@/lib/broker/listeners";
import { RecoveryNotices } from "@/lib/broker/recovery";
import { SubscriptionAudit } from "@/lib/broker/subscription-audit";
import type { FrameListener, RecoveryPhase } from "@/lib/broker/types";
import { errorMessage } from "@/lib/broker/with-timeout";
import { brokerCounters } from "@/lib/ops/counters";
import { createLogger } from "@/lib/ops/log";
import { Rounds } from "@/lib/ops/rounds";
import type { Client, PubSub, RedisConnections } from "@/lib/redis/connection";
import type { RedisNames } from "@/lib/redis/names";
import { encodeEnvelope, isEnvelope } from "@/lib/sse/envelope";
import { frameId, isCompleteFrame } from "@/lib/sse/frame";

/** What subscriptions need of the broker. */
export interface RedisSubscriptionsDeps {
  connections: RedisConnections;
  names: RedisNames;
  /** Channels' newest ids seen live, shared with the history store. */
  heads: ChannelHeads;
  /** Whether events carry history ids (history on). */
  history: boolean;
  flaskSse: boolean;
  /** How often quiet subscriptions are probed (ms; 0: never). */
  auditMs: number;
  /** Publishes a probe on the command connection. */
  probe(channel: string, payload: string): Promise<unknown>;
  withTimeout<T>(operation: string, promise: Promise<T>): Promise<T>;
}

/**
 * The subscriber side of the Redis broker: one pub/sub connection per process, a channel
 * subscribed on its first listener and unsubscribed on its last, messages fanned out
 * in-process, and the recovery that keeps "every event published after subscribe arrives"
 * true through reconnects, failovers and silent subscriptions (`Broker.onRecover`).
 */
export class RedisSubscriptions {
  private readonly listeners = new ChannelListeners();
  private readonly log = createLogger();
  private readonly connectionLog = createLogger();
  private readonly pubsub: PubSub;
  private subscriber: Client | undefined;
  /** Pending or confirmed SUBSCRIBE per channel; listeners wait on it. */
  private readonly subscriptions = new Map<string, Promise<void>>();
  /** Channels whose current subscription is confirmed. */
  private readonly confirmed = new Set<string>();
  private readonly recovery = new RecoveryNotices();
  /** Re-subscriptions after a reconnect; one that came during another runs after it. */
  private readonly resubscribes = new Rounds();
  private readonly audit: SubscriptionAudit;
  private readonly heads: ChannelHeads;
  private readonly names: RedisNames;

  constructor(private readonly deps: RedisSubscriptionsDeps) {
    this.pubsub = deps.connections.pubsub;
    this.heads = deps.heads;
    this.names = deps.names;
    this.audit = new SubscriptionAudit({
      intervalMs: deps.auditMs,
      token: `${process.pid}.${Math.random().toString(36).slice(2)}`,
      channels: () => this.confirmed,
      publish: (channel, payload) => deps.probe(channel, payload),
      repair: (channels, rebuild) => this.repair(channels, rebuild),
      // A `lost` that no reconnect followed (a shard that never came back, a spurious
      // signal): subscribe everything again, which ends in `restored`.
      tick: () => {
        const stale = (this.recovery.lostFor() ?? 0) > deps.auditMs;
        if (stale && this.subscriber !== undefined) this.resubscribeAll();
      },
    });
  }

  subscribe(channel: string, listener: FrameListener): Promise<void> | undefined {
    this.listeners.add(channel, listener);
    if (this.confirmed.has(channel)) return undefined;
    return this.subscriptions.get(channel) ?? this.subscribeChannel(this.getSubscriber(), channel);
  }

  /** SUBSCRIBEs a channel; listeners wait on the answer. */
  private subscribeChannel(subscriber: Client, channel: string): Promise<void> {
    const request = this.pubsub.subscribe(subscriber, this.pubsubOf(channel));
    const confirmed: Promise<void> = this.withTimeout("subscribe", request).then(() => {
      // From here on this process sees every message of the channel (until a drop).
      if (this.subscriptions.get(channel) === confirmed) {
        this.heads.confirm(channel);
        this.confirmed.add(channel);
      }
    });
    // A failed SUBSCRIBE is forgotten, so the next listener tries again.
    confirmed.catch(() => {
      if (this.subscriptions.get(channel) === confirmed) this.subscriptions.delete(channel);
    });
    this.subscriptions.set(channel, confirmed);
    return confirmed;
  }

  unsubscribe(channel: string, listener: FrameListener): void {
    if (!this.listeners.remove(channel, listener)) return;
    this.subscriptions.delete(channel);
    this.confirmed.delete(channel);
    this.heads.forget(channel);
    const subscriber = this.subscriber;
    if (subscriber === undefined) return;
    this.pubsub.unsubscribe(subscriber, this.pubsubOf(channel)).catch((error: unknown) => {
      this.log.warn(`redis unsubscribe: ${errorMessage(error)}`);
    });
  }

  /** The pub/sub channels a channel listens on: ours, and its bare name for Flask-SSE. */
  private pubsubOf(channel: string): string[] {
    const ours = this.names.pubsub(channel);
    return this.deps.flaskSse ? [ours, channel] : [ours];
  }

  /** Listeners in this process, on one channel or on all. */
  listenerCount(channel?: string): number {
    return this.listeners.count(channel);
  }

  onRecover(callback: (phase: RecoveryPhase) => void): () => void {
    return this.recovery.on(callback);
  }

  /** Stops probing and closes the subscriber connection. */
  async close(): Promise<void> {
    this.audit.stop();
    const subscriber = this.subscriber;
    this.subscriber = undefined;
    await subscriber?.quit().catch(() => subscriber.disconnect());
  }

  private getSubscriber(): Client {
    if (this.subscriber === undefined) {
      const subscriber = this.deps.connections.subscriber();
      subscriber.on("error", (error) =>
        this.connectionLog.warn(`redis subscriber: ${errorMessage(error)}`),
      );
      subscriber.on("ready", () => this.connectionLog.reset());
      subscriber.on(this.pubsub.messageEvent, (channel: Buffer, message: Buffer) =>
        this.deliver(channel.toString(), message),
      );
      // The first sign a subscription may miss events: a connection (plain), or a shard's
      // subscriber (cluster), went away. `restored` follows the re-subscription.
      subscriber.on("close", () => this.markLost());
      if (this.pubsub.sharded) {
        subscriber.on("-node", () => this.markLost());
        subscriber.on("-subscriber", () => this.markLost());
      }
      let connectedBefore = false;
      subscriber.on(this.pubsub.readyEvent, () => {
        if (!connectedBefore) {
          connectedBefore = true;
          return;
        }
        setImmediate(() => this.resubscribeAll());
      });
      this.subscriber = subscriber;
      this.audit.start();
    }
    return this.subscriber;
  }

  /** Subscriptions may be missing events: streams hold live ones (see `Broker.onRecover`). */
  private markLost(): void {
    this.heads.lost();
    this.recovery.lost();
  }

  /** Every subscription is confirmed again: streams catch up. */
  private markRestored(): void {
    this.heads.restored();
    this.recovery.restored();
  }

  /**
   * After a reconnect: every channel with listeners is subscribed again, confirmed, before
   * streams catch up. ioredis re-subscribes by itself, but a sharded subscriber's
   * re-subscribe is not awaited and its failure (a slot mid-failover) is dropped: asking
   * again and awaiting the answers is what makes "caught up" true. The connection can come
   * back again while we confirm (a Sentinel's failover detector reconnects as soon as the
   * switch is announced, and what was in flight is lost with the old socket): then one more
   * round follows at once, not after the audit finds the channels still lost.
   */
  private resubscribeAll(): void {
    void this.resubscribes.run(async () => {
      const subscriber = this.subscriber;
      if (subscriber === undefined) return;
      this.markLost();
      try {
        if (this.pubsub.sharded) {
          await Promise.all(
            this.listeners
              .listened()
              .map((channel) =>
                this.withTimeout(
                  "subscribe",
                  this.pubsub.subscribe(subscriber, this.pubsubOf(channel)),
                ),
              ),
          );
        } else {
          // ioredis re-subscribes right after "ready"; a PING queued behind those commands
          // answers once the subscriptions are live again.
          await this.withTimeout("ping", subscriber.ping());
        }
        // Confirmed on a connection that has since been replaced proves nothing.
        if (!this.resubscribes.askedAgain) this.markRestored();
      } catch (error) {
        // Still lost: the audit's next round tries again, unless a reconnect asks first.
        this.log.warn(`redis subscriber recovery: ${errorMessage(error)}`);
      }
    });
  }

  /**
   * Channels whose probe never came back: subscribed again (or on a new subscriber
   * connection, when once was not enough), then every stream catches up from history.
   */
  private async repair(channels: string[], rebuild: boolean): Promise<void> {
    brokerCounters().subscriptionRepairs += channels.length;
    // Channel names stay out of the log: some are private.
    this.log.warn(
      `redis: ${channels.length} subscription(s) stopped delivering: ${
        rebuild ? "reconnecting the subscriber" : "subscribing again"
      }, then catching up from history`,
    );
    // Before subscribing again: from here, live events must not move streams past the gap.
    this.markLost();
    if (rebuild) {
      const old = this.subscriber;
      this.subscriber = undefined;
      this.subscriptions.clear();
      this.confirmed.clear();
      old?.disconnect();
      const subscriber = this.getSubscriber();
      await Promise.all(
        this.listeners.listened().map((channel) => this.subscribeChannel(subscriber, channel)),
      );
    } else {
      const subscriber = this.getSubscriber();
      await Promise.all(
        channels.map((channel) =>
          this.withTimeout("subscribe", this.pubsub.subscribe(subscriber, this.pubsubOf(channel))),
        ),
      );
    }
    this.markRestored();
  }

  private deliver(pubsub: string, message: Buffer): void {
    // Ours (`sse:{NAME}`), or a bare name where Flask-SSE publishes (only subscribed with
    // SSE_FLASK_SSE on).
    const ours = this.names.channelOf(pubsub);
    // Any message on our channel shows its subscription works; a probe goes no further.
    if (ours !== undefined && this.audit.seen(ours, message)) return;
    const channel = ours ?? pubsub;
    if (!isEnvelope(message)) {
      // A frame must end its event; one that does not would merge into the next event of
      // every stream on the channel. (Channel names stay out of the log: some are private.)
      if (!isCompleteFrame(message)) {
        this.log.warn(
          "dropped a message that is neither a JSON envelope nor an SSE frame ending in a blank line",
        );
        return;
      }
      const id = this.deps.history ? frameId(message) : undefined;
      if (id !== undefined) this.heads.see(channel, id);
      this.listeners.dispatch(channel, message, id);
      return;
    }
    try {
      const frame = Buffer.from(encodeEnvelope(message.toString()));
      this.listeners.dispatch(channel, frame, undefined);
    } catch (error) {
      this.log.warn(`dropped a malformed envelope: ${errorMessage(error)}`);
    }
  }

  private withTimeout<T>(operation: string, promise: Promise<T>): Promise<T> {
    return this.deps.withTimeout(operation, promise);
  }
}
