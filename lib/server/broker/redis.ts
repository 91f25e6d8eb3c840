import "server-only";
import { Redis, type RedisOptions } from "ioredis";
import { ChannelListeners } from "@/lib/server/broker/listeners";
import { type Broker, BrokerUnavailableError, type FrameListener } from "@/lib/server/broker/types";
import { createLogger } from "@/lib/server/log";
import { encodeEnvelope, isEnvelope } from "@/lib/sse/envelope";

/** Options for the Redis broker. */
export interface RedisBrokerOptions {
  /** `redis://[:password@]host[:port][/db]` or `rediss://…`. */
  url: string;
  /** Publish and subscribe fail after this long without Redis (default 3000 ms). */
  timeoutMs?: number;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Redis pub/sub broker: one publisher and one subscriber connection per process, however
 * many streams are open. A channel is SUBSCRIBEd on its first listener and UNSUBSCRIBEd on
 * its last; messages fan out in-process. Also accepts Flask-SSE JSON envelopes published by
 * other services, encoding each once per process.
 */
export class RedisBroker implements Broker {
  readonly kind = "redis";
  private readonly listeners = new ChannelListeners();
  private readonly log = createLogger();
  private readonly clientLogs = { publisher: createLogger(), subscriber: createLogger() };
  private readonly timeoutMs: number;
  private readonly options: RedisOptions;
  private readonly url: string;
  private publisher: Redis | undefined;
  private subscriber: Redis | undefined;
  /** Pending or confirmed SUBSCRIBE per channel; listeners wait on it. */
  private readonly subscriptions = new Map<string, Promise<void>>();

  constructor({ url, timeoutMs = 3000 }: RedisBrokerOptions) {
    this.url = url;
    this.timeoutMs = timeoutMs;
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

  private getPublisher(): Redis {
    this.publisher ??= this.connect("publisher");
    return this.publisher;
  }

  private getSubscriber(): Redis {
    if (this.subscriber === undefined) {
      const subscriber = this.connect("subscriber");
      subscriber.on("messageBuffer", (channel: Buffer, message: Buffer) =>
        this.deliver(channel.toString(), message),
      );
      this.subscriber = subscriber;
    }
    return this.subscriber;
  }

  private deliver(channel: string, message: Buffer): void {
    if (!isEnvelope(message)) {
      this.listeners.dispatch(channel, message);
      return;
    }
    try {
      this.listeners.dispatch(channel, Buffer.from(encodeEnvelope(message.toString())));
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

  publish(channel: string, frame: Uint8Array): Promise<number> {
    return this.withTimeout(
      "publish",
      this.getPublisher().publish(
        channel,
        Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength),
      ),
    );
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
