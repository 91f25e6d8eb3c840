import "server-only";
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { getBroker } from "@/lib/server/broker";

/** This process, as presence entries and metrics name it. */
export const INSTANCE_ID = `${hostname()}:${process.pid}:${randomBytes(3).toString("hex")}`;

// Entries live 30 s and are refreshed every 10 s, so a crashed instance drops out within 30 s.
const PRESENCE_TTL_MS = 30_000;
const REFRESH_MS = 10_000;
// Changes are reported together, a moment after they happen.
const DEBOUNCE_MS = 100;

interface PresenceState {
  counts: Map<string, number>;
  dirty: Set<string>;
  flushTimer: NodeJS.Timeout | undefined;
  refreshTimer: NodeJS.Timeout | undefined;
}

const GLOBAL_KEY = Symbol.for("next-sse.presence");
type PresenceHolder = { [GLOBAL_KEY]?: PresenceState };

function state(): PresenceState {
  const holder = globalThis as PresenceHolder;
  holder[GLOBAL_KEY] ??= {
    counts: new Map(),
    dirty: new Set(),
    flushTimer: undefined,
    refreshTimer: undefined,
  };
  return holder[GLOBAL_KEY];
}

function report(channels: Iterable<string>): void {
  const s = state();
  const counts = new Map<string, number>();
  for (const channel of channels) counts.set(channel, s.counts.get(channel) ?? 0);
  if (counts.size === 0) return;
  getBroker()
    .reportPresence(INSTANCE_ID, counts, PRESENCE_TTL_MS)
    .catch(() => {
      // Redis is down: the next refresh reports again.
      for (const channel of counts.keys()) s.dirty.add(channel);
    });
}

function schedule(): void {
  const s = state();
  s.flushTimer ??= setTimeout(() => {
    s.flushTimer = undefined;
    const dirty = [...s.dirty];
    s.dirty.clear();
    report(dirty);
  }, DEBOUNCE_MS);
  s.flushTimer.unref();
  s.refreshTimer ??= setInterval(() => report(s.counts.keys()), REFRESH_MS);
  s.refreshTimer.unref();
}

/** Counts a stream in (delta 1) or out (delta -1) of its channels' presence. */
export function updatePresence(channels: readonly string[], delta: 1 | -1): void {
  const s = state();
  for (const channel of channels) {
    const count = (s.counts.get(channel) ?? 0) + delta;
    if (count > 0) s.counts.set(channel, count);
    else s.counts.delete(channel);
    s.dirty.add(channel);
  }
  schedule();
}

/** Streams per channel in this process. */
export function localPresence(): ReadonlyMap<string, number> {
  return state().counts;
}

/**
 * Subscribers of a channel across every instance (each reports its counts to Redis with an
 * expiry). With the in-memory broker, this process's count.
 * @throws BrokerUnavailableError when Redis does not answer in time.
 */
export function countSubscribers(channel: string): Promise<number> {
  return getBroker().countSubscribers(channel);
}
