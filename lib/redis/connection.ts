import "server-only";
import { Cluster, Redis, type RedisOptions } from "ioredis";
import { PUBLISH_SCRIPT, READ_SINCE_SCRIPT } from "@/lib/redis/scripts";

export type Client = Redis | Cluster;

/** The command connection, with next-sse's scripts defined on it. */
export type Scripted = Client & {
  ssePublish(
    stream: string,
    key: string,
    channel: string,
    body: string,
    maxLength: number,
    ttl: number,
    keyed: string,
    publishCommand: string,
    keepLast: number,
    idleTtl: number,
  ): Promise<[string, number]>;
  sseReadSince(
    stream: string,
    deleted: string,
    position: string,
    count: number,
  ): Promise<[string, string, Array<[string, string[]]>, string?, number?]>;
};

/** Where Redis is: a `url`, Redis Cluster seed nodes, or Sentinel. */
export interface RedisTarget {
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
}

/**
 * Pub/sub as the topology speaks it, chosen once: plain PUBLISH/SUBSCRIBE, or on a cluster
 * sharded pub/sub, where a channel lives on the shard of its slot (the `{channel}` tag).
 */
export interface PubSub {
  readonly sharded: boolean;
  /** The publish command the publish script runs. */
  readonly publishCommand: "PUBLISH" | "SPUBLISH";
  /** The subscriber's event that carries messages as Buffers. */
  readonly messageEvent: "messageBuffer" | "smessageBuffer";
  /** The subscriber's event once its subscriptions are ready again after a reconnect. */
  readonly readyEvent: "ready" | "subscribersReady";
  publish(client: Client, channel: string, payload: string | Uint8Array): Promise<number>;
  subscribe(client: Client, channels: string[]): Promise<unknown>;
  unsubscribe(client: Client, channels: string[]): Promise<unknown>;
}

const PLAIN: PubSub = {
  sharded: false,
  publishCommand: "PUBLISH",
  messageEvent: "messageBuffer",
  readyEvent: "ready",
  publish: (client, channel, payload) => client.publish(channel, payload as string),
  subscribe: (client, channels) => client.subscribe(...channels),
  unsubscribe: (client, channels) => client.unsubscribe(...channels),
};

const SHARDED: PubSub = {
  sharded: true,
  publishCommand: "SPUBLISH",
  messageEvent: "smessageBuffer",
  readyEvent: "subscribersReady",
  publish: (client, channel, payload) =>
    client.spublish(channel, payload as string) as Promise<number>,
  subscribe: (client, channels) => client.ssubscribe(...channels),
  unsubscribe: (client, channels) => client.sunsubscribe(...channels),
};

/** Redis's connections for one process: how to open them, and its dialect of pub/sub. */
export class RedisConnections {
  readonly pubsub: PubSub;
  private readonly options: RedisOptions;

  constructor(
    private readonly target: RedisTarget,
    timeoutMs: number,
  ) {
    if (
      target.url === undefined &&
      !target.clusterNodes?.length &&
      !target.sentinels?.nodes.length
    ) {
      throw new Error("Redis needs a url, clusterNodes or sentinels");
    }
    this.pubsub = target.clusterNodes?.length ? SHARDED : PLAIN;
    this.options = {
      // Without these, ioredis queues commands while Redis is down and a PUBLISH hangs
      // for about 74 s (20 retries). We fail fast instead and let callers answer 503.
      commandTimeout: timeoutMs,
      connectTimeout: timeoutMs,
      maxRetriesPerRequest: 1,
      retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
    };
  }

  /** Whether writes can be confirmed by replicas with `WAIT` (not on a cluster). */
  get canWait(): boolean {
    return !this.pubsub.sharded;
  }

  /** The command connection, with the publish and history scripts defined. */
  publisher(): Scripted {
    const client = this.open("publisher");
    client.defineCommand("ssePublish", { numberOfKeys: 2, lua: PUBLISH_SCRIPT });
    client.defineCommand("sseReadSince", { numberOfKeys: 2, lua: READ_SINCE_SCRIPT });
    return client as Scripted;
  }

  /** The pub/sub connection (on a cluster, one sharded subscriber per shard). */
  subscriber(): Client {
    return this.open("subscriber");
  }

  private open(role: "publisher" | "subscriber"): Client {
    const { clusterNodes, sentinels, url } = this.target;
    const connectionName = `next-sse:${role}`;
    // Commands of one tick (say, the history reads of a burst of reconnects) go out in one
    // write. A subscriber connection cannot pipeline.
    const enableAutoPipelining = role === "publisher";
    if (clusterNodes?.length) {
      return new Cluster(
        clusterNodes.map((node) => (node.includes("://") ? node : `redis://${node}`)),
        {
          shardedSubscribers: role === "subscriber",
          redisOptions: { ...this.options, connectionName },
          enableAutoPipelining,
          clusterRetryStrategy: this.options.retryStrategy,
        },
      );
    }
    if (sentinels?.nodes.length) {
      return new Redis({
        ...this.options,
        sentinels: sentinels.nodes.map(parseHostPort),
        name: sentinels.master,
        connectionName,
        // A master that died gets no goodbye: ask the sentinels as soon as they switch.
        failoverDetector: true,
        enableAutoPipelining,
      });
    }
    return new Redis(url as string, { ...this.options, connectionName, enableAutoPipelining });
  }
}

/** `host:port` (port 26379 when left out) for ioredis's sentinel list. */
function parseHostPort(node: string): { host: string; port: number } {
  const colon = node.lastIndexOf(":");
  if (colon < 0) return { host: node, port: 26379 };
  return { host: node.slice(0, colon), port: Number(node.slice(colon + 1)) };
}
