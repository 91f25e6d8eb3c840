import "server-only";

/**
 * Where next-sse's keys and pub/sub channels live in a Redis shared with other apps: every
 * name starts with the prefix (SSE_KEY_PREFIX, default `sse:`), and carries the channel as a
 * `{channel}` hash tag, so on Redis Cluster a channel's keys and its sharded pub/sub channel
 * share one slot.
 */
export class RedisNames {
  constructor(readonly prefix = "sse:") {}

  /** The pub/sub channel of a next-sse channel: `sse:{NAME}`. */
  pubsub(channel: string): string {
    return `${this.prefix}{${channel}}`;
  }

  /** The next-sse channel of a pub/sub channel, or undefined for one outside the namespace. */
  channelOf(pubsub: string): string | undefined {
    const open = this.prefix.length;
    if (!pubsub.startsWith(this.prefix) || pubsub[open] !== "{" || !pubsub.endsWith("}")) {
      return undefined;
    }
    return pubsub.slice(open + 1, -1);
  }

  /** A channel's history, a Redis Stream. */
  history(channel: string): string {
    return `${this.prefix}history:{${channel}}`;
  }

  /** The idempotency key of a publisher-given id on a channel. */
  seen(channel: string, id: string): string {
    return `${this.prefix}seen:{${channel}}:${id}`;
  }

  /** Ids deleted from a channel's history by moderation (a set, expiring with it). */
  deleted(channel: string): string {
    return `${this.prefix}deleted:{${channel}}`;
  }

  /** The presence hash of a channel: instance id -> "count:expiresAtMs". */
  presence(channel: string): string {
    return `${this.prefix}presence:{${channel}}`;
  }

  /** The members hash of a private channel: instance id -> its users (JSON). */
  members(channel: string): string {
    return `${this.prefix}members:{${channel}}`;
  }
}
