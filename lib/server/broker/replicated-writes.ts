import "server-only";
import { BrokerUnavailableError } from "@/lib/server/broker/types";

/** What a replicated write needs of its connection: Redis `WAIT`. */
export interface WaitingConnection {
  wait(replicas: number, timeoutMs: number): Promise<number>;
}

interface PendingWrite<C> {
  write(connection: C): Promise<unknown>;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

/**
 * Writes acknowledged only once `replicas` replicas have them (SSE_REDIS_WAIT_REPLICAS), so a
 * failover cannot take an acknowledged publish back. They go on a connection of their own:
 * `WAIT` blocks the connection it runs on, and on the shared command connection a missing
 * replica (as during a failover) would hold history reads, probes and every other command
 * behind it, until the audit took the quiet channels for broken. One `WAIT` is out at a
 * time, covering every write sent before it; writes that come meanwhile gather for the next
 * (a `WAIT` per write would queue up behind each other while a replica is missing).
 */
export class ReplicatedWrites<C extends WaitingConnection> {
  private batch: Array<PendingWrite<C>> = [];
  /** A WAIT is out: writes gather for the next one (a queue of WAITs would only grow). */
  private waiting = false;

  constructor(
    private readonly connection: () => C,
    private readonly replicas: number,
    /** How long `WAIT` waits for the replicas (ms). */
    private readonly waitMs: number,
    /** Bounds a command's answer (rejects with BrokerUnavailableError). */
    private readonly withTimeout: <T>(operation: string, promise: Promise<T>) => Promise<T>,
  ) {}

  /**
   * Runs `write` on the writes' connection and resolves with its answer once the replicas
   * have it.
   * @throws BrokerUnavailableError when they do not in time (the write may have happened:
   * the publisher retries with its id, which is not delivered twice).
   */
  run<T>(write: (connection: C) => Promise<T>): Promise<T> {
    const done = new Promise<T>((resolve, reject) => {
      this.batch.push({ write, resolve: resolve as (value: unknown) => void, reject });
      if (this.batch.length === 1 && !this.waiting) queueMicrotask(() => this.flush());
    });
    // The time limit counts from here: waiting for the WAIT out is part of the answer.
    return this.withTimeout("publish", done);
  }

  private flush(): void {
    const batch = this.batch;
    this.batch = [];
    if (batch.length === 0) return;
    const connection = this.connection();
    // In order on one connection: the writes, then the WAIT that covers them all.
    const written = batch.map(({ write }) => this.withTimeout("publish", write(connection)));
    const acked = this.withTimeout("publish", connection.wait(this.replicas, this.waitMs));
    this.waiting = true;
    const next = () => {
      this.waiting = false;
      this.flush();
    };
    acked.then(next, next);
    batch.forEach(({ resolve, reject }, i) => {
      Promise.all([written[i], acked]).then(([result, count]) => {
        if (count >= this.replicas) resolve(result);
        else {
          reject(
            new BrokerUnavailableError(
              `redis publish reached ${count} of ${this.replicas} replicas in time`,
              { operation: "publish" },
            ),
          );
        }
      }, reject);
    });
  }
}
