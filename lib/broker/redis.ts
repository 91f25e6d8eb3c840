import "server-only";
import { Cluster, Redis, type RedisOptions } from "ioredis";
import { ChannelHeads } from "@/lib/broker/channel-heads";
import { ChannelListeners } from "@/lib/broker/listeners";
import { type Client, RedisHistory, type Scripted } from "@/lib/broker/redis-history";
import { PUBLISH_SCRIPT, READ_SINCE_SCRIPT, RedisNames } from "@/lib/broker/redis-scripts";
import { SubscriptionAudit } from "@/lib/broker/subscription-audit";
import {
  type Broker,
  BrokerUnavailableError,
  type FrameListener,
  type HistoryEntry,
  type HistoryOptions,
  type HistoryPageQuery,
  type OutgoingEvent,
  type PublishResult,
  type RecoveryPhase,
  type Replay,
} from "@/lib/broker/types";
import { errorMessage, withTimeout } from "@/lib/broker/with-timeout";
import { createLogger } from "@/lib/ops/log";
import { encodeEnvelope, isEnvelope } from "@/lib/sse/envelope";
import { closeFrame, frameId, isCompleteFrame } from "@/lib/sse/frame";

/** Options for the Redis broker: a `url`, or the seed nodes of a Redis Cluster. */
export interface RedisBrokerOptions {
  /** `redis://[:password@]host[:port][/db]` or `rediss://…`. */
  url?: string;
  /**
   * Redis Cluster seed nodes (`host:port` or `redis://…` each). Channels then use sharded
   * pub/sub (SSUBSCRIBE/SPUBLISH, Redis 7) and each channel's keys share its slot.
   */
  clusterNodes?: string[];
  /**
   * Redis Sentinel: `host:port` of each sentinel, and the name of the master they watch.
   * Both connections follow the master through a failover.
   */
  sentinels?: { nodes: string[]; master: string };
  /**
   * How often quiet subscriptions are checked with a probe (ms, default 3000; 0: never).
   * See `subscription-audit.ts`.
   */
  auditMs?: number;
  /**
   * Replicas that must have a publish before it is acknowledged (Redis `WAIT`; default 0).
   * Not on a cluster: `WAIT` must run on the node that took the write.
   */
  waitReplicas?: number;
  /** Publish and subscribe fail after this long without Redis (default 3000 ms). */
  timeoutMs?: number;
  /** History bounds (default 1000 events, 3600 s); either at 0 turns history off. */
  history?: HistoryOptions;
  /** Prefix of every key and pub/sub channel (SSE_KEY_PREFIX, default `sse:`). */
  prefix?: string;
  /**
   * Also subscribe to each channel's bare name, where Flask-SSE (and next-sse before the
   * prefix) publishes, and take its JSON envelopes (SSE_FLASK_SSE; default off: a bare name
   * may be another app's channel).
   */
  flaskSse?: boolean;
}

/**
 * Redis broker: one publisher and one subscriber connection per process, however many
 * streams are open. A channel is SUBSCRIBEd on its first listener and UNSUBSCRIBEd on its
 * last; messages fan out in-process. History lives in a Redis Stream per channel, written
 * by the same Lua script that publishes. Also accepts Flask-SSE JSON envelopes published by
 * other services (delivered live, not kept in history), encoding each once per process.
 */
export class RedisBroker implements Broker {
  readonly kind = "redis";
  readonly history: boolean;
  private readonly listeners = new ChannelListeners();
  private readonly log = createLogger();
  private readonly clientLogs = { publisher: createLogger(), subscriber: createLogger() };
  private readonly timeoutMs: number;
  private readonly historyOptions: HistoryOptions;
  private readonly options: RedisOptions;
  private readonly url: string | undefined;
  private readonly clusterNodes: string[] | undefined;
  private publisher: Scripted | undefined;
  private subscriber: Client | undefined;
  /** Pending or confirmed SUBSCRIBE per channel; listeners wait on it. */
  private readonly subscriptions = new Map<string, Promise<void>>();
  private readonly recoverCallbacks = new Set<(phase: RecoveryPhase) => void>();
  /** Since when subscriptions may be missing events (a `lost` not yet `restored`). */
  private lostAt: number | undefined;
  private resubscribing = false;
  /** A reconnect came during a re-subscription: run it once more when it ends. */
  private resubscribeAgain = false;
  /** Channels' newest ids from the live subscription: spares history reads (see there). */
  private readonly heads: ChannelHeads;
  /** The channels' history: reads for resume, pages, moderation (`redis-history.ts`). */
  private readonly store: RedisHistory;
  /** Key and pub/sub channel names, under the prefix. */
  readonly names: RedisNames;
  private readonly flaskSse: boolean;
  private readonly sentinels: { nodes: string[]; master: string } | undefined;
  /** Channels whose current subscription is confirmed. */
  private readonly confirmed = new Set<string>();
  private readonly audit: SubscriptionAudit;
  private readonly waitReplicas: number;
  /** Subscriptions found silent and repaired (`sse_redis_subscription_repairs_total`). */
  subscriptionRepairs = 0;

  constructor({
    url,
    clusterNodes,
    sentinels,
    auditMs = 3000,
    waitReplicas = 0,
    timeoutMs = 3000,
    history = { maxLength: 1000, ttlSeconds: 3600 },
    prefix = "sse:",
    flaskSse = false,
  }: RedisBrokerOptions) {
    if (url === undefined && !clusterNodes?.length && !sentinels?.nodes.length) {
      throw new Error("RedisBroker needs a url, clusterNodes or sentinels");
    }
    this.url = url;
    this.sentinels = sentinels?.nodes.length ? sentinels : undefined;
    this.clusterNodes = clusterNodes?.length ? clusterNodes : undefined;
    // Not on a cluster: WAIT must run on the node that took the write (see the README).
    this.waitReplicas = this.clusterNodes === undefined ? waitReplicas : 0;
    this.timeoutMs = timeoutMs;
    this.names = new RedisNames(prefix);
    this.flaskSse = flaskSse;
    this.historyOptions = history;
    this.history = history.maxLength > 0 && history.ttlSeconds > 0;
    this.heads = new ChannelHeads((history.ttlSeconds * 1000) / 2, this.clusterNodes === undefined);
    this.store = new RedisHistory({
      publisher: () => this.getPublisher(),
      names: this.names,
      heads: this.heads,
      options: history,
      withTimeout: (operation, promise) => this.withTimeout(operation, promise),
    });
    this.options = {
      // Without these, ioredis queues commands while Redis is down and a PUBLISH hangs
      // for about 74 s (20 retries). We fail fast instead and let callers answer 503.
      commandTimeout: timeoutMs,
      connectTimeout: timeoutMs,
      maxRetriesPerRequest: 1,
      retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
    };
    this.audit = new SubscriptionAudit({
      intervalMs: auditMs,
      token: `${process.pid}.${Math.random().toString(36).slice(2)}`,
      channels: () => this.confirmed,
      publish: (channel, payload) => {
        const publisher = this.getPublisher();
        const target = this.names.pubsub(channel);
        return this.withTimeout(
          "probe",
          this.sharded ? publisher.spublish(target, payload) : publisher.publish(target, payload),
        );
      },
      repair: (channels, rebuild) => this.repair(channels, rebuild),
      // A `lost` that no reconnect followed (a shard that never came back, a spurious
      // signal): subscribe everything again, which ends in `restored`.
      tick: () => {
        const stale = this.lostAt !== undefined && Date.now() - this.lostAt > auditMs;
        if (stale && this.subscriber !== undefined) void this.resubscribeAll(this.subscriber);
      },
    });
  }

  private get sharded(): boolean {
    return this.clusterNodes !== undefined;
  }

  private connect(role: "publisher" | "subscriber"): Client {
    const connectionName = `next-sse:${role}`;
    const client: Client = this.clusterNodes
      ? new Cluster(
          this.clusterNodes.map((node) => (node.includes("://") ? node : `redis://${node}`)),
          {
            shardedSubscribers: role === "subscriber",
            redisOptions: { ...this.options, connectionName },
            enableAutoPipelining: role === "publisher",
            clusterRetryStrategy: this.options.retryStrategy,
          },
        )
      : this.sentinels
        ? new Redis({
            ...this.options,
            sentinels: this.sentinels.nodes.map(parseHostPort),
            name: this.sentinels.master,
            connectionName,
            // A master that died gets no goodbye: ask the sentinels as soon as they switch.
            failoverDetector: true,
            enableAutoPipelining: role === "publisher",
          })
        : new Redis(this.url as string, {
            ...this.options,
            connectionName,
            // Commands of one tick (say, the history reads of a burst of reconnects) go out
            // in one write. The subscriber connection cannot pipeline.
            enableAutoPipelining: role === "publisher",
          });
    const log = this.clientLogs[role];
    client.on("error", (error) => log.warn(`redis ${role}: ${errorMessage(error)}`));
    client.on("ready", () => log.reset());
    return client;
  }

  /** The command (publisher) connection, shared with the presence store. */
  commandClient(): Client {
    return this.getPublisher();
  }

  private getPublisher(): Scripted {
    if (this.publisher === undefined) {
      const client = this.connect("publisher");
      client.defineCommand("ssePublish", { numberOfKeys: 2, lua: PUBLISH_SCRIPT });
      client.defineCommand("sseReadSince", { numberOfKeys: 2, lua: READ_SINCE_SCRIPT });
      this.publisher = client as Scripted;
    }
    return this.publisher;
  }

  private getSubscriber(): Client {
    if (this.subscriber === undefined) {
      const subscriber = this.connect("subscriber");
      const onMessage = (channel: Buffer, message: Buffer) =>
        this.deliver(channel.toString(), message);
      subscriber.on(this.sharded ? "smessageBuffer" : "messageBuffer", onMessage);
      // The first sign a subscription may miss events: a connection (plain), or a shard's
      // subscriber (cluster), went away. `restored` follows the re-subscription.
      subscriber.on("close", () => this.markLost());
      if (this.sharded) {
        subscriber.on("-node", () => this.markLost());
        subscriber.on("-subscriber", () => this.markLost());
      }
      let connectedBefore = false;
      const onReady = () => {
        if (!connectedBefore) {
          connectedBefore = true;
          return;
        }
        setImmediate(() => void this.resubscribeAll(subscriber));
      };
      // A cluster's sharded subscribers report their own readiness.
      subscriber.on(this.sharded ? "subscribersReady" : "ready", onReady);
      this.subscriber = subscriber;
      this.audit.start();
    }
    return this.subscriber;
  }

  /** Subscriptions may be missing events: streams hold live ones (see `Broker.onRecover`). */
  private markLost(): void {
    this.heads.lost();
    if (this.lostAt === undefined) this.lostAt = Date.now();
    for (const callback of this.recoverCallbacks) callback("lost");
  }

  /** Every subscription is confirmed again: streams catch up. */
  private markRestored(): void {
    this.lostAt = undefined;
    this.heads.restored();
    for (const callback of this.recoverCallbacks) callback("restored");
  }

  /**
   * After a reconnect: every channel with listeners is subscribed again, confirmed, before
   * streams catch up. ioredis re-subscribes by itself, but a sharded subscriber's
   * re-subscribe is not awaited and its failure (a slot mid-failover) is dropped: asking
   * again and awaiting the answers is what makes "caught up" true.
   */
  private async resubscribeAll(subscriber: Client): Promise<void> {
    // The connection came back again while we were still confirming (a Sentinel's
    // failover detector reconnects as soon as the switch is announced, and what was in
    // flight is lost with the old socket): confirm again once this round ends, at once,
    // not after the audit finds the channels still lost.
    if (this.resubscribing) {
      this.resubscribeAgain = true;
      return;
    }
    this.resubscribing = true;
    this.resubscribeAgain = false;
    this.markLost();
    try {
      if (this.sharded) {
        await Promise.all(
          this.listeners
            .listened()
            .map((channel) =>
              this.withTimeout("subscribe", subscriber.ssubscribe(...this.pubsubOf(channel))),
            ),
        );
      } else {
        // ioredis re-subscribes right after "ready"; a PING queued behind those commands
        // answers once the subscriptions are live again.
        await this.withTimeout("ping", subscriber.ping());
      }
      // Confirmed on a connection that has since been replaced proves nothing.
      if (!this.resubscribeAgain) this.markRestored();
    } catch (error) {
      // Still lost: the audit's next round tries again, unless a reconnect asks first.
      this.log.warn(`redis subscriber recovery: ${errorMessage(error)}`);
    } finally {
      this.resubscribing = false;
      if (this.resubscribeAgain && this.subscriber !== undefined) {
        void this.resubscribeAll(this.subscriber);
      }
    }
  }

  /**
   * Channels whose probe never came back: subscribed again (or on a new subscriber
   * connection, when once was not enough), then every stream catches up from history.
   */
  private async repair(channels: string[], rebuild: boolean): Promise<void> {
    this.subscriptionRepairs += channels.length;
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
          this.withTimeout(
            "subscribe",
            this.sharded
              ? subscriber.ssubscribe(...this.pubsubOf(channel))
              : subscriber.subscribe(...this.pubsubOf(channel)),
          ),
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
      const id = this.history ? frameId(message) : undefined;
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
    return withTimeout(operation, this.timeoutMs, promise);
  }

  async publish(channel: string, event: OutgoingEvent): Promise<PublishResult> {
    const publisher = this.getPublisher();
    if (!this.history) {
      const frame = closeFrame(event.body, event.id);
      const target = this.names.pubsub(channel);
      const sent: Promise<number> = this.sharded
        ? (publisher.spublish(target, frame) as Promise<number>)
        : publisher.publish(target, frame);
      const receivers = await this.withTimeout("publish", sent);
      await this.awaitReplicas(publisher);
      return { id: event.id, receivers, duplicate: false };
    }
    const {
      maxLength,
      ttlSeconds,
      keepLast = 0,
      idleTtlSeconds = ttlSeconds,
    } = this.historyOptions;
    const keyed = event.id !== undefined;
    const [id, receivers] = await this.withTimeout(
      "publish",
      publisher.ssePublish(
        this.names.history(channel),
        keyed ? this.names.seen(channel, event.id as string) : this.names.history(channel),
        this.names.pubsub(channel),
        event.body,
        maxLength,
        ttlSeconds,
        keyed ? "1" : "0",
        this.sharded ? "SPUBLISH" : "PUBLISH",
        keepLast,
        idleTtlSeconds,
      ),
    );
    await this.awaitReplicas(publisher);
    return receivers < 0
      ? { id, receivers: 0, duplicate: true }
      : { id, receivers, duplicate: false };
  }

  async notify(channel: string, body: string): Promise<void> {
    const publisher = this.getPublisher();
    const frame = closeFrame(body, undefined);
    const target = this.names.pubsub(channel);
    await this.withTimeout(
      "notify",
      this.sharded ? publisher.spublish(target, frame) : publisher.publish(target, frame),
    );
  }

  /**
   * With `waitReplicas`, a publish is acknowledged only once that many replicas have it
   * (`WAIT` on the connection that wrote it, so a failover cannot take it back); else it
   * fails as a broker outage (503: the publisher retries with its id, and is not duplicated).
   */
  private async awaitReplicas(publisher: Scripted): Promise<void> {
    if (this.waitReplicas === 0) return;
    const acked = await this.withTimeout(
      "publish",
      publisher.wait(this.waitReplicas, Math.max(1, Math.floor(this.timeoutMs / 2))),
    );
    if (acked < this.waitReplicas) {
      throw new BrokerUnavailableError(
        `redis publish reached ${acked} of ${this.waitReplicas} replicas in time`,
        { operation: "publish" },
      );
    }
  }

  readSince(channel: string, position: string | undefined, limit?: number): Promise<Replay> {
    return this.store.readSince(channel, position, limit);
  }

  readLatest(channel: string, count: number): Promise<Replay> {
    return this.store.readLatest(channel, count);
  }

  deleteEvent(channel: string, id: string): Promise<boolean> {
    return this.store.deleteEvent(channel, id);
  }

  readPage(channel: string, page: HistoryPageQuery): Promise<HistoryEntry[]> {
    return this.store.readPage(channel, page);
  }

  subscribe(channel: string, listener: FrameListener): Promise<void> | undefined {
    this.listeners.add(channel, listener);
    if (this.confirmed.has(channel)) return undefined;
    return this.subscriptions.get(channel) ?? this.subscribeChannel(this.getSubscriber(), channel);
  }

  newestKnown(channel: string): string | undefined {
    return this.history ? this.heads.newest(channel) : undefined;
  }

  /** SUBSCRIBEs a channel; listeners wait on the answer. */
  private subscribeChannel(subscriber: Client, channel: string): Promise<void> {
    const targets = this.pubsubOf(channel);
    const request = this.sharded
      ? subscriber.ssubscribe(...targets)
      : subscriber.subscribe(...targets);
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
    const targets = this.pubsubOf(channel);
    const request = this.sharded
      ? subscriber.sunsubscribe(...targets)
      : subscriber.unsubscribe(...targets);
    request.catch((error: unknown) => {
      this.log.warn(`redis unsubscribe: ${errorMessage(error)}`);
    });
  }

  /** The pub/sub channels a channel listens on: ours, and its bare name for Flask-SSE. */
  private pubsubOf(channel: string): string[] {
    const ours = this.names.pubsub(channel);
    return this.flaskSse ? [ours, channel] : [ours];
  }

  listenerCount(channel?: string): number {
    return this.listeners.count(channel);
  }

  onRecover(callback: (phase: RecoveryPhase) => void): () => void {
    this.recoverCallbacks.add(callback);
    // A stream that opens while subscriptions may be missing events holds live ones too:
    // otherwise one that arrives before `restored` moves it past what was missed.
    if (this.lostAt !== undefined) callback("lost");
    return () => this.recoverCallbacks.delete(callback);
  }

  async ping(): Promise<boolean> {
    try {
      return (await this.withTimeout("ping", this.getPublisher().ping())) === "PONG";
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    this.audit.stop();
    const clients = [this.publisher, this.subscriber].filter((c): c is Client => c !== undefined);
    this.publisher = undefined;
    this.subscriber = undefined;
    await Promise.all(clients.map((client) => client.quit().catch(() => client.disconnect())));
  }
}

/** `host:port` (port 26379 when left out) for ioredis's sentinel list. */
function parseHostPort(node: string): { host: string; port: number } {
  const colon = node.lastIndexOf(":");
  if (colon < 0) return { host: node, port: 26379 };
  return { host: node.slice(0, colon), port: Number(node.slice(colon + 1)) };
}
