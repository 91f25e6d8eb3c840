import "server-only";
import { BrokerUnavailableError, type OutgoingEvent, type PublishResult } from "@/lib/broker/types";
import type { HistoryOptions } from "@/lib/history/types";
import type { PubSub, Scripted } from "@/lib/redis/connection";
import type { RedisNames } from "@/lib/redis/names";
import { closeFrame } from "@/lib/sse/frame";

/** How often a numbered channel's expiry is renewed (its TTL is a minute or more). */
const RENEW_EXPIRY_MS = 5000;

/** What publishing needs of the broker: its command connection, names, bounds. */
export interface RedisPublisherDeps {
  publisher(): Scripted;
  names: RedisNames;
  pubsub: PubSub;
  /** History bounds, or undefined when history is off. */
  history: HistoryOptions | undefined;
  /** Replicas that must confirm a publish (`WAIT`), 0 for none. */
  waitReplicas: number;
  timeoutMs: number;
  withTimeout<T>(operation: string, promise: Promise<T>): Promise<T>;
}

/**
 * Publishing to Redis: with history on, one script appends to the channel's stream and
 * publishes (`lib/redis/scripts.ts`); without, or for a transient notice, a plain publish.
 */
export class RedisPublisher {
  constructor(private readonly deps: RedisPublisherDeps) {}

  async publish(channel: string, event: OutgoingEvent): Promise<PublishResult> {
    const { names, pubsub, history } = this.deps;
    const publisher = this.deps.publisher();
    const target = names.pubsub(channel);
    if (event.transient) {
      const frame = closeFrame(event.body, undefined);
      const receivers = await this.deps.withTimeout(
        "notify",
        pubsub.publish(publisher, target, frame),
      );
      return { id: undefined, receivers, duplicate: false };
    }
    if (history === undefined) {
      const frame = closeFrame(event.body, event.id);
      const receivers = await this.deps.withTimeout(
        "publish",
        pubsub.publish(publisher, target, frame),
      );
      await this.awaitReplicas(publisher);
      return { id: event.id, receivers, duplicate: false };
    }
    if (event.at !== undefined) return this.append(channel, event, event.retention ?? history);
    const {
      maxLength,
      ttlSeconds,
      keepLast = 0,
      idleTtlSeconds = ttlSeconds,
    } = event.retention ?? history;
    const keyed = event.id !== undefined;
    const [id, receivers] = await this.deps.withTimeout(
      "publish",
      publisher.ssePublish(
        names.history(channel),
        keyed ? names.seen(channel, event.id as string) : names.history(channel),
        target,
        event.body,
        maxLength,
        ttlSeconds,
        keyed ? "1" : "0",
        pubsub.publishCommand,
        keepLast,
        idleTtlSeconds,
      ),
    );
    await this.awaitReplicas(publisher);
    return receivers < 0
      ? { id, receivers: 0, duplicate: true }
      : { id, receivers, duplicate: false };
  }

  /**
   * An event its writer numbered (`OutgoingEvent.at`): XADD under that id and PUBLISH, sent
   * together (auto-pipelined), no script. An id at or below the newest makes XADD fail: a
   * duplicate, and the PUBLISH that went with it is dropped by every stream (positions only
   * grow). The key's expiry is renewed at most every few seconds per channel.
   */
  private async append(
    channel: string,
    event: OutgoingEvent,
    bounds: HistoryOptions,
  ): Promise<PublishResult> {
    const { names, pubsub } = this.deps;
    const publisher = this.deps.publisher();
    const at = event.at as string;
    const key = names.history(channel);
    const frame = closeFrame(event.body, at);
    const now = Date.now();
    const renewed = this.renewedAt.get(channel);
    const renew = renewed === undefined || now - renewed > RENEW_EXPIRY_MS;
    if (renew) this.remember(channel, now);
    const ttl = Math.max(bounds.ttlSeconds, bounds.idleTtlSeconds ?? 0);
    const written = publisher.xadd(key, at, "f", event.body).then(
      () => true,
      (error: unknown) => {
        if (/equal or smaller/i.test((error as Error).message)) return false;
        throw error;
      },
    );
    const sent = pubsub.publish(publisher, names.pubsub(channel), frame);
    const expiry = renew ? publisher.expire(key, ttl) : undefined;
    const [fresh, receivers] = await this.deps.withTimeout(
      "publish",
      Promise.all([written, sent, expiry]),
    );
    await this.awaitReplicas(publisher);
    return fresh
      ? { id: at, receivers, duplicate: false }
      : { id: at, receivers: 0, duplicate: true };
  }

  /** When each numbered channel's expiry was last renewed (bounded: old entries go). */
  private readonly renewedAt = new Map<string, number>();

  private remember(channel: string, now: number): void {
    if (this.renewedAt.size >= 10_000) {
      for (const [name, at] of this.renewedAt) {
        if (now - at > RENEW_EXPIRY_MS) this.renewedAt.delete(name);
      }
    }
    this.renewedAt.set(channel, now);
  }

  /**
   * With `waitReplicas`, a publish is acknowledged only once that many replicas have it
   * (`WAIT` on the connection that wrote it, so a failover cannot take it back); else it
   * fails as a broker outage (503: the publisher retries with its id, and is not duplicated).
   */
  private async awaitReplicas(publisher: Scripted): Promise<void> {
    const { waitReplicas, timeoutMs } = this.deps;
    if (waitReplicas === 0) return;
    const acked = await this.deps.withTimeout(
      "publish",
      publisher.wait(waitReplicas, Math.max(1, Math.floor(timeoutMs / 2))),
    );
    if (acked < waitReplicas) {
      throw new BrokerUnavailableError(
        `redis publish reached ${acked} of ${waitReplicas} replicas in time`,
        { operation: "publish" },
      );
    }
  }
}
