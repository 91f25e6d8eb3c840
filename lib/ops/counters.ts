import "server-only";
import { singleton } from "@/lib/ops/singleton";

/**
 * Every counter of the process, in one place: request paths and the stream core bump them,
 * metrics and health read them. Running totals since the process started.
 */

/** What streams did. */
export interface StreamCounters {
  opened: number;
  delivered: number;
  replayed: number;
  slowConsumerDrops: number;
  resets: number;
}

/** The process's stream counters (mutable: the stream core bumps them with `++`). */
export function streamCounters(): StreamCounters {
  return singleton<StreamCounters>("stream-counters", () => ({
    opened: 0,
    delivered: 0,
    replayed: 0,
    slowConsumerDrops: 0,
    resets: 0,
  }));
}

/** What the broker holds and did. */
export interface BrokerCounters {
  /** Listeners on the broker in this process now, one per stream and channel (a gauge). */
  listeners: number;
  /** Redis subscriptions found silent and repaired (a total). */
  subscriptionRepairs: number;
}

/** The process's broker counters (mutable: the broker moves them). */
export function brokerCounters(): BrokerCounters {
  return singleton<BrokerCounters>("broker-counters", () => ({
    listeners: 0,
    subscriptionRepairs: 0,
  }));
}

/** What requests did. */
export interface RequestCounters {
  published: number;
  brokerRecoveries: number;
  /** Refused requests by error code. */
  rejected: Map<string, number>;
}

/** The process's request counters (mutable: bump them with `++`). */
export function requestCounters(): RequestCounters {
  return singleton<RequestCounters>("request-counters", () => ({
    published: 0,
    brokerRecoveries: 0,
    rejected: new Map(),
  }));
}

/** Counts a refused request by its error code (e.g. `invalid_channel`, `token_required`). */
export function countRejected(code: string): void {
  const { rejected } = requestCounters();
  rejected.set(code, (rejected.get(code) ?? 0) + 1);
}
