import "server-only";
import { Redis, type RedisOptions } from "ioredis";
import { ChannelListeners, frameId } from "@/lib/server/broker/listeners";
import {
  historyKey,
  idempotencyKey,
  PUBLISH_SCRIPT,
  presenceKey,
  READ_SINCE_SCRIPT,
} from "@/lib/server/broker/redis-scripts";
import {
  type Broker,
  BrokerUnavailableError,
  type FrameListener,
  type HistoryEntry,
  type HistoryOptions,
  type OutgoingEvent,
  type PublishResult,
  type Replay,
} from "@/lib/server/broker/types";
import { createLogger } from "@/lib/server/log";
import { closeFrame } from "@/lib/sse/encode";
import { encodeEnvelope, isEnvelope } from "@/lib/sse/envelope";

/** Options for the Redis broker. */
export interface RedisBrokerOptions {
  /** `redis://[:password@]host[:port][/db]` or `rediss://…`. */
  url: string;
  /** Publish and subscribe fail after this long without Redis (default 3000 ms). */
  timeoutMs?: number;
  /** History bounds (default 1000 events, 3600 s); either at 0 turns history off. */
  history?: HistoryOptions;
}

type Scripted = Redis & {
  ssePublish(
    stream: string,
    key: string,
    channel: string,
    body: string,
    maxLength: number,
    ttl: number,
    keyed: string,
  ): Promise<[string, number]>;
  sseReadSince(
    stream: string,
    position: string,
    count: number,
  ): Promise<[string, string, Array<[string, string[]]>]>;
};

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
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
  private readonly url: string;
  private publisher: Scripted | undefined;
  private subscriber: Redis | undefined;
  /** Pending or confirmed SUBSCRIBE per channel; listeners wait on it. */
  private readonly subscriptions = new Map<string, Promise<void>>();
  private readonly recoverCallbacks = new Set<() => void>();

  constructor({
    url,
    timeoutMs = 3000,
    history = { maxLength: 1000, ttlSeconds: 3600 },
  }: RedisBrokerOptions) {
    this.url = url;
    this.timeoutMs = timeoutMs;
    this.historyOptions = history;
    this.history = history.maxLength > 0 && history.ttlSeconds > 0;
    this.options = {
      // Without these, ioredis queues commands while Redis is down and a PUBLISH hangs
      // for about 74 s (20 retries). We fail fast instead and let callers answer 503.
      commandTimeout: timeoutMs,
      connectTimeout: timeoutMs,
      maxRetriesPerRequest: 1,
      retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
    };
  }

  private connect(role: "publisher" | "subscriber"): Redis {
    const client = new Redis(this.url, { ...this.options, connectionName: `next-sse:${role}` });
    const log = this.clientLogs[role];
    client.on("error", (error) => log.warn(`redis ${role}: ${errorMessage(error)}`));
    client.on("ready", () => log.reset());
    return client;
  }

  private getPublisher(): Scripted {
    if (this.publisher === undefined) {
      const client = this.connect("publisher");
      client.defineCommand("ssePublish", { numberOfKeys: 2, lua: PUBLISH_SCRIPT });
      client.defineCommand("sseReadSince", { numberOfKeys: 1, lua: READ_SINCE_SCRIPT });
      this.publisher = client as Scripted;
    }
    return this.publisher;
  }

  private getSubscriber(): Redis {
    if (this.subscriber === undefined) {
      const subscriber = this.connect("subscriber");
      subscriber.on("messageBuffer", (channel: Buffer, message: Buffer) =>
        this.deliver(channel.toString(), message),
      );
      let connectedBefore = false;
      subscriber.on("ready", () => {
        if (!connectedBefore) {
          connectedBefore = true;
          return;
        }
        // ioredis re-subscribes right after "ready"; a PING queued behind those commands
        // answers once the subscriptions are live again. Then streams may catch up.
        setImmediate(() => {
          subscriber.ping().then(
            () => {
              for (const callback of this.recoverCallbacks) callback();
            },
            (error: unknown) => this.log.warn(`redis subscriber recovery: ${errorMessage(error)}`),
          );
        });
      });
      this.subscriber = subscriber;
    }
    return this.subscriber;
  }

  private deliver(channel: string, message: Buffer): void {
    if (!isEnvelope(message)) {
      this.listeners.dispatch(channel, message, this.history ? frameId(message) : undefined);
      return;
    }
    try {
      const frame = Buffer.from(encodeEnvelope(message.toString()));
      this.listeners.dispatch(channel, frame, undefined);
    } catch (error) {
      this.log.warn(`dropped a malformed message on channel ${channel}: ${errorMessage(error)}`);
    }
  }

  private withTimeout<T>(operation: string, promise: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new BrokerUnavailableError(`redis ${operation} timed out after ${this.timeoutMs} ms`),
          ),
        this.timeoutMs,
      );
      promise.then(
        (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        (error: unknown) => {
          clearTimeout(timer);
          reject(
            new BrokerUnavailableError(`redis ${operation} failed: ${errorMessage(error)}`, {
              cause: error,
            }),
          );
        },
      );
    });
  }

  async publish(channel: string, event: OutgoingEvent): Promise<PublishResult> {
    const publisher = this.getPublisher();
    if (!this.history) {
      const frame = closeFrame(event.body, event.id);
      const receivers = await this.withTimeout("publish", publisher.publish(channel, frame));
      return { id: event.id, receivers, duplicate: false };
    }
    const { maxLength, ttlSeconds } = this.historyOptions;
    const keyed = event.id !== undefined;
    const [id, receivers] = await this.withTimeout(
      "publish",
      publisher.ssePublish(
        historyKey(channel),
        keyed ? idempotencyKey(channel, event.id as string) : historyKey(channel),
        channel,
        event.body,
        maxLength,
        ttlSeconds,
        keyed ? "1" : "0",
      ),
    );
    return receivers < 0
      ? { id, receivers: 0, duplicate: true }
      : { id, receivers, duplicate: false };
  }

  async readSince(channel: string, position: string | undefined): Promise<Replay> {
    const [status, lastId, rows] = await this.withTimeout(
      "history read",
      this.getPublisher().sseReadSince(
        historyKey(channel),
        position ?? "",
        this.historyOptions.maxLength,
      ),
    );
    const entries: HistoryEntry[] = rows.map(([id, fields]) => ({
      id,
      frame: Buffer.from(closeFrame(fields[1], id)),
    }));
    return { gap: status === "gap", lastId, entries };
  }

  subscribe(channel: string, listener: FrameListener): Promise<void> {
    this.listeners.add(channel, listener);
    let confirmed = this.subscriptions.get(channel);
    if (confirmed === undefined) {
      confirmed = this.withTimeout("subscribe", this.getSubscriber().subscribe(channel)).then(
        () => undefined,
      );
      // A failed SUBSCRIBE is forgotten, so the next listener tries again.
      confirmed.catch(() => {
        if (this.subscriptions.get(channel) === confirmed) this.subscriptions.delete(channel);
      });
      this.subscriptions.set(channel, confirmed);
    }
    return confirmed;
  }

  unsubscribe(channel: string, listener: FrameListener): void {
    if (!this.listeners.remove(channel, listener)) return;
    this.subscriptions.delete(channel);
    this.subscriber?.unsubscribe(channel).catch((error: unknown) => {
      this.log.warn(`redis unsubscribe ${channel}: ${errorMessage(error)}`);
    });
  }

  listenerCount(channel?: string): number {
    return this.listeners.count(channel);
  }

  onRecover(callback: () => void): () => void {
    this.recoverCallbacks.add(callback);
    return () => this.recoverCallbacks.delete(callback);
  }

  async reportPresence(
    instanceId: string,
    counts: ReadonlyMap<string, number>,
    ttlMs: number,
  ): Promise<void> {
    const expiresAt = Date.now() + ttlMs;
    const pipeline = this.getPublisher().pipeline();
    for (const [channel, count] of counts) {
      const key = presenceKey(channel);
      if (count > 0) {
        pipeline.hset(key, instanceId, `${count}:${expiresAt}`);
        pipeline.pexpire(key, ttlMs);
      } else {
        pipeline.hdel(key, instanceId);
      }
    }
    await this.withTimeout("presence report", pipeline.exec());
  }

  async countSubscribers(channel: string): Promise<number> {
    const entries = await this.withTimeout(
      "presence read",
      this.getPublisher().hgetall(presenceKey(channel)),
    );
    const now = Date.now();
    let total = 0;
    for (const value of Object.values(entries)) {
      const [count, expiresAt] = value.split(":").map(Number);
      if (expiresAt > now) total += count;
    }
    return total;
  }

  async ping(): Promise<boolean> {
    try {
      return (await this.withTimeout("ping", this.getPublisher().ping())) === "PONG";
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    const clients = [this.publisher, this.subscriber].filter((c): c is Redis => c !== undefined);
    this.publisher = undefined;
    this.subscriber = undefined;
    await Promise.all(clients.map((client) => client.quit().catch(() => client.disconnect())));
  }
}
