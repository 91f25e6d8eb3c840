import "server-only";
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { ChannelReports } from "@/lib/features/channel-reports";
import { getPresenceStore } from "@/lib/features/presence";
import { streamCounters } from "@/lib/ops/counters";
import { singleton } from "@/lib/ops/singleton";
import type { Outbox } from "@/lib/stream/outbox";
import type { SinkKind } from "@/lib/transport/sinks";

interface Registry {
  open: Set<Outbox>;
  /** Open streams per client address. A Map: addresses are client input. */
  byClient: Map<string, number>;
  bySink: Record<SinkKind, number>;
  heartbeatTimer: NodeJS.Timeout | undefined;
  presence: Map<string, number>;
  presenceReports: ChannelReports;
  draining: boolean;
  /** True once a server (the production one, or `next start`'s SIGTERM hook) owns shutdown. */
  shutdownOwned: boolean;
  drained: Array<() => void>;
}

const registry = (): Registry =>
  singleton<Registry>("stream-registry", () => ({
    open: new Set(),
    byClient: new Map(),
    bySink: { node: 0, web: 0 },
    heartbeatTimer: undefined,
    presence: new Map(),
    presenceReports: new ChannelReports({
      debounceMs: PRESENCE_DEBOUNCE_MS,
      refreshMs: PRESENCE_REFRESH_MS,
      refreshed: () => registry().presence.keys(),
      report: reportPresence,
    }),
    draining: false,
    shutdownOwned: false,
    drained: [],
  }));

/** This process, as presence entries name it: host, pid and a random suffix, made once. */
export function instanceId(): string {
  return singleton(
    "instance-id",
    () => `${hostname()}:${process.pid}:${randomBytes(3).toString("hex")}`,
  );
}

/** Streams open in this process. */
export function countOpenStreams(): number {
  return registry().open.size;
}

/** Open streams by the sink they write to: Node responses or web streams. */
export function countStreamsBySink(): Readonly<Record<SinkKind, number>> {
  return registry().bySink;
}

/**
 * Counts a stream as open: in limits, heartbeats (checked at a quarter of `heartbeatMs`, so
 * an idle stream hears from us within 1.25x) and shutdown.
 */
export function track(outbox: Outbox, heartbeatMs: number): void {
  const r = registry();
  r.open.add(outbox);
  streamCounters().opened++;
  if (heartbeatMs > 0 && r.heartbeatTimer === undefined) {
    r.heartbeatTimer = setInterval(
      () => {
        const now = Date.now();
        for (const o of r.open) if (now - o.lastWriteAt >= heartbeatMs) o.heartbeat(now);
      },
      Math.max(250, heartbeatMs / 4),
    );
    r.heartbeatTimer.unref();
  }
}

/** Forgets a closed stream; the heartbeat timer stops with the last one. */
export function untrack(outbox: Outbox): void {
  const r = registry();
  if (!r.open.delete(outbox)) return;
  if (r.open.size === 0) {
    clearInterval(r.heartbeatTimer);
    r.heartbeatTimer = undefined;
    for (const resolve of r.drained.splice(0)) resolve();
  }
}

/** Streams a client address holds in this process. */
export function countClientStreams(client: string): number {
  return registry().byClient.get(client) ?? 0;
}

/** Counts a client's stream in (delta 1) or out (delta -1). */
export function countClient(client: string, delta: 1 | -1): void {
  const { byClient } = registry();
  const count = (byClient.get(client) ?? 0) + delta;
  if (count > 0) byClient.set(client, count);
  else byClient.delete(client);
}

/** Counts a stream's sink while it is attached (delta 1) and when it ends (delta -1). */
export function countSink(kind: SinkKind, delta: 1 | -1): void {
  registry().bySink[kind] += delta;
}

// Presence entries live 30 s and are refreshed every 10 s, so a crashed instance drops out
// within 30 s. Changes are reported together, 100 ms after they happen.
const PRESENCE_TTL_MS = 30_000;
const PRESENCE_REFRESH_MS = 10_000;
const PRESENCE_DEBOUNCE_MS = 100;

function reportPresence(channels: Iterable<string>): void {
  const r = registry();
  const counts = new Map<string, number>();
  for (const channel of channels) counts.set(channel, r.presence.get(channel) ?? 0);
  if (counts.size === 0) return;
  getPresenceStore()
    .report(instanceId(), counts, PRESENCE_TTL_MS)
    .catch(() => {
      // Redis is down: the next refresh reports again.
      r.presenceReports.retry(counts.keys());
    });
}

/** Counts a stream in (delta 1) or out (delta -1) of its channels' presence. */
export function updatePresence(channels: readonly string[], delta: 1 | -1): void {
  const r = registry();
  for (const channel of channels) {
    const count = (r.presence.get(channel) ?? 0) + delta;
    if (count > 0) r.presence.set(channel, count);
    else r.presence.delete(channel);
  }
  r.presenceReports.changed(channels);
}

/** Streams per channel in this process. */
export function localPresence(): ReadonlyMap<string, number> {
  return registry().presence;
}

/** True once the server is shutting down: new streams are refused, open ones are ending. */
export function isDraining(): boolean {
  return registry().draining;
}

/**
 * Ends the open streams whose token holder matches (a `sub`, or one token's `jti`), with
 * `end` `{"reason":"token_revoked"}`. Returns how many.
 */
export function revokeStreams(target: { sub?: string; jti?: string }): number {
  let ended = 0;
  for (const outbox of registry().open) {
    const holder = outbox.holder;
    if (holder === undefined) continue;
    const bySub = target.sub !== undefined && holder.sub === target.sub;
    const byJti = target.jti !== undefined && holder.jti === target.jti;
    if (!bySub && !byJti) continue;
    outbox.revoke();
    ended++;
  }
  return ended;
}

/**
 * Starts a graceful shutdown: refuse new streams and end the open ones with a reconnect
 * hint, spread over `spreadMs` (at most half of `timeoutMs`), so browsers reconnect
 * (elsewhere, or here after the restart) and resume, not all at once. Resolves once every
 * stream is gone, or after `timeoutMs` if a client never lets go.
 */
export function drainStreams(timeoutMs: number, spreadMs = 0): Promise<void> {
  const r = registry();
  r.draining = true;
  endSpread([...r.open], Math.min(spreadMs, timeoutMs / 2));
  if (r.open.size === 0) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    timer.unref();
    r.drained.push(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** How often a spread drain ends its next slice of streams (ms). */
const SPREAD_TICK_MS = 50;

/**
 * Ends streams over `spreadMs` instead of all at once: a slice every tick, in random order,
 * so the clients of a draining instance reconnect to the others as a stream, not a
 * stampede (each with a jittered reconnect hint besides).
 */
function endSpread(outboxes: Outbox[], spreadMs: number): void {
  if (spreadMs < SPREAD_TICK_MS || outboxes.length < 2) {
    for (const outbox of outboxes) outbox.end();
    return;
  }
  for (let i = outboxes.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [outboxes[i], outboxes[j]] = [outboxes[j], outboxes[i]];
  }
  const perTick = Math.ceil(outboxes.length / Math.floor(spreadMs / SPREAD_TICK_MS));
  const next = () => {
    for (const outbox of outboxes.splice(0, perTick)) outbox.end();
    if (outboxes.length > 0) setTimeout(next, SPREAD_TICK_MS).unref();
  };
  next();
}

/**
 * Marks shutdown as owned by a server that closes its own listener first (the production
 * server): `installShutdown` then does nothing.
 */
export function ownShutdown(): void {
  registry().shutdownOwned = true;
}

/**
 * For `next start` and `next dev`, whose SIGTERM handling closes the listener and then waits
 * for every connection, that is, forever with open streams: on SIGTERM (or SIGINT) drain the
 * streams, and exit within `timeoutMs` whatever happens. Installed once, on the first stream.
 */
export function installShutdown(timeoutMs: number, spreadMs = 0): void {
  const r = registry();
  if (r.shutdownOwned) return;
  r.shutdownOwned = true;
  const onSignal = (signal: NodeJS.Signals) => {
    if (r.draining) return;
    console.info(`[next-sse] ${signal}: ending open streams, exiting within ${timeoutMs} ms`);
    void drainStreams(timeoutMs, spreadMs);
    setTimeout(() => process.exit(signal === "SIGINT" ? 130 : 143), timeoutMs).unref();
  };
  process.once("SIGTERM", onSignal);
  process.once("SIGINT", onSignal);
}
