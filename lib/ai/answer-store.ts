import "server-only";
import type { Broker } from "@/lib/broker";
import type { RedisBroker } from "@/lib/broker/redis";
import { withTimeout } from "@/lib/broker/with-timeout";

/**
 * What answers keep besides their channel: which answer is active for a chat, and a lease
 * per running answer, renewed by the instance that runs it. A lease that runs out means
 * that instance is gone: any instance may then end the answer as `interrupted`.
 */
export interface AnswerStore {
  setActive(chatId: string, answerId: string, ttlSeconds: number): Promise<void>;
  active(chatId: string): Promise<string | null>;
  /** Clears the chat's active answer if it is still this one. */
  clearActive(chatId: string, answerId: string): Promise<void>;
  renewLease(answerId: string, ms: number): Promise<void>;
  leaseHeld(answerId: string): Promise<boolean>;
  dropLease(answerId: string): Promise<void>;
}

/** One process: a crashed instance takes its viewers with it, so leases only time out. */
export class MemoryAnswerStore implements AnswerStore {
  private readonly chats = new Map<string, { answerId: string; until: number }>();
  private readonly leases = new Map<string, number>();

  async setActive(chatId: string, answerId: string, ttlSeconds: number): Promise<void> {
    this.chats.set(chatId, { answerId, until: Date.now() + ttlSeconds * 1000 });
  }

  async active(chatId: string): Promise<string | null> {
    const entry = this.chats.get(chatId);
    if (entry === undefined || entry.until < Date.now()) return null;
    return entry.answerId;
  }

  async clearActive(chatId: string, answerId: string): Promise<void> {
    if (this.chats.get(chatId)?.answerId === answerId) this.chats.delete(chatId);
  }

  async renewLease(answerId: string, ms: number): Promise<void> {
    this.leases.set(answerId, Date.now() + ms);
  }

  async leaseHeld(answerId: string): Promise<boolean> {
    return (this.leases.get(answerId) ?? 0) > Date.now();
  }

  async dropLease(answerId: string): Promise<void> {
    this.leases.delete(answerId);
  }
}

// Compare and delete in one step: a newer answer of the chat is never cleared by an old one.
const CLEAR_IF_SAME = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

/** Redis, shared by every instance: keys under SSE_KEY_PREFIX, each with its chat or answer tag. */
export class RedisAnswerStore implements AnswerStore {
  constructor(
    private readonly broker: RedisBroker,
    private readonly timeoutMs: number,
  ) {}

  private key(kind: "active" | "lease", id: string): string {
    return `${this.broker.names.prefix}ai:${kind}:{${id}}`;
  }

  private run<T>(operation: string, promise: Promise<T>): Promise<T> {
    return withTimeout(operation, this.timeoutMs, promise);
  }

  async setActive(chatId: string, answerId: string, ttlSeconds: number): Promise<void> {
    const client = this.broker.commandClient();
    await this.run(
      "answer write",
      client.set(this.key("active", chatId), answerId, "EX", ttlSeconds),
    );
  }

  async active(chatId: string): Promise<string | null> {
    return this.run("answer read", this.broker.commandClient().get(this.key("active", chatId)));
  }

  async clearActive(chatId: string, answerId: string): Promise<void> {
    const client = this.broker.commandClient();
    await this.run(
      "answer write",
      client.eval(CLEAR_IF_SAME, 1, this.key("active", chatId), answerId),
    );
  }

  async renewLease(answerId: string, ms: number): Promise<void> {
    const client = this.broker.commandClient();
    await this.run("answer lease", client.set(this.key("lease", answerId), "1", "PX", ms));
  }

  async leaseHeld(answerId: string): Promise<boolean> {
    const client = this.broker.commandClient();
    return (await this.run("answer lease", client.exists(this.key("lease", answerId)))) === 1;
  }

  async dropLease(answerId: string): Promise<void> {
    await this.run("answer lease", this.broker.commandClient().del(this.key("lease", answerId)));
  }
}

/** The store for the process's broker: Redis beside a Redis broker, else in memory. */
export function createAnswerStore(broker: Broker, timeoutMs: number): AnswerStore {
  return broker.kind === "redis"
    ? new RedisAnswerStore(broker as RedisBroker, timeoutMs)
    : new MemoryAnswerStore();
}
