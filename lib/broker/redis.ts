import "server-only";
import { ChannelHeads } from "@/lib/broker/channel-heads";
import { RedisPublisher } from "@/lib/broker/redis-publisher";
import { RedisSubscriptions } from "@/lib/broker/redis-subscriptions";
import type {
  Broker,
  FrameListener,
  OutgoingEvent,
  PublishResult,
  RecoveryPhase,
} from "@/lib/broker/types";
import { errorMessage, withTimeout } from "@/lib/broker/with-timeout";
import { RedisHistory } from "@/lib/history/redis";
import { type HistoryOptions, keepsHistory } from "@/lib/history/types";
import { createLogger } from "@/lib/ops/log";
import {
  type Client,
  RedisConnections,
  type RedisTarget,
  type Scripted,
} from "@/lib/redis/connection";
import { RedisNames } from "@/lib/redis/names";

/** Options for the Redis broker: where Redis is (see `RedisTarget`), and how to use it. */
export interface RedisBrokerOptions extends RedisTarget {
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
 * Redis broker: one command connection and one subscriber connection per process, however
 * many streams are open. Three parts, one concept each: publishing (`redis-publisher.ts`:
 * one script appends to history and publishes), subscriptions (`redis-subscriptions.ts`:
 * fan-out in-process, and recovery), and the history store (`lib/history/redis.ts`). Also
 * accepts Flask-SSE JSON envelopes published by other services (live, not kept).
 */
export class RedisBroker implements Broker {
  readonly kind = "redis";
  readonly history: RedisHistory | undefined;
  /** Key and pub/sub channel names, under the prefix. */
  readonly names: RedisNames;
  private readonly connections: RedisConnections;
  private readonly publishing: RedisPublisher;
  private readonly subscriptions: RedisSubscriptions;
  private readonly connectionLog = createLogger();
  private readonly timeoutMs: number;
  private publisher: Scripted | undefined;

  constructor({
    auditMs = 3000,
    waitReplicas = 0,
    timeoutMs = 3000,
    history = { maxLength: 1000, ttlSeconds: 3600 },
    prefix = "sse:",
    flaskSse = false,
    ...target
  }: RedisBrokerOptions) {
    this.connections = new RedisConnections(target, timeoutMs);
    const { pubsub } = this.connections;
    this.timeoutMs = timeoutMs;
    this.names = new RedisNames(prefix);
    const keeps = keepsHistory(history);
    const heads = new ChannelHeads((history.ttlSeconds * 1000) / 2, !pubsub.sharded);
    const withTimeout = <T>(operation: string, promise: Promise<T>) =>
      this.withTimeout(operation, promise);
    const publisher = () => this.getPublisher();
    this.history = keeps
      ? new RedisHistory({ publisher, names: this.names, heads, options: history, withTimeout })
      : undefined;
    this.publishing = new RedisPublisher({
      publisher,
      names: this.names,
      pubsub,
      history: keeps ? history : undefined,
      // Not on a cluster: WAIT must run on the node that took the write.
      waitReplicas: this.connections.canWait ? waitReplicas : 0,
      timeoutMs,
      withTimeout,
    });
    this.subscriptions = new RedisSubscriptions({
      connections: this.connections,
      names: this.names,
      heads,
      history: keeps,
      flaskSse,
      auditMs,
      probe: (channel, payload) =>
        withTimeout("probe", pubsub.publish(publisher(), this.names.pubsub(channel), payload)),
      withTimeout,
    });
  }

  publish(channel: string, event: OutgoingEvent): Promise<PublishResult> {
    return this.publishing.publish(channel, event);
  }

  subscribe(channel: string, listener: FrameListener): Promise<void> | undefined {
    return this.subscriptions.subscribe(channel, listener);
  }

  unsubscribe(channel: string, listener: FrameListener): void {
    this.subscriptions.unsubscribe(channel, listener);
  }

  onRecover(callback: (phase: RecoveryPhase) => void): () => void {
    return this.subscriptions.onRecover(callback);
  }

  /** Listeners in this process, on one channel or on all (for tests). */
  listenerCount(channel?: string): number {
    return this.subscriptions.listenerCount(channel);
  }

  /** The command connection, shared with the presence store and revocation. */
  commandClient(): Client {
    return this.getPublisher();
  }

  async ping(): Promise<boolean> {
    try {
      return (await this.withTimeout("ping", this.getPublisher().ping())) === "PONG";
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    const publisher = this.publisher;
    this.publisher = undefined;
    await Promise.all([
      this.subscriptions.close(),
      publisher?.quit().catch(() => publisher.disconnect()),
    ]);
  }

  private getPublisher(): Scripted {
    if (this.publisher === undefined) {
      const client = this.connections.publisher();
      client.on("error", (error) =>
        this.connectionLog.warn(`redis publisher: ${errorMessage(error)}`),
      );
      client.on("ready", () => this.connectionLog.reset());
      this.publisher = client;
    }
    return this.publisher;
  }

  private withTimeout<T>(operation: string, promise: Promise<T>): Promise<T> {
    return withTimeout(operation, this.timeoutMs, promise);
  }
}
