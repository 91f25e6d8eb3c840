import { inject } from "vitest";
import { MemoryBroker } from "@/lib/broker/memory";
import { RedisBroker } from "@/lib/broker/redis";
import type { Broker, FrameListener } from "@/lib/broker/types";
import type { ChannelHistory, HistoryOptions } from "@/lib/history/types";

export const decoder = new TextDecoder();
export const event = (data: string, id?: string) => ({ body: `data: ${data}\n`, id });
let channelSeq = 0;
export const freshChannel = () => `contract-${process.pid}-${Date.now()}-${++channelSeq}`;
/** A frame without its `id:` line, to compare bodies whatever the broker's ids are. */
export const withoutId = (frame: string) => frame.replace(/^id: .*\n/m, "");

interface Received {
  frame: string;
  id: string | undefined;
  channel: string;
}

/** A listener that records events and lets a test await the n-th one. */
export function collect() {
  const received: Received[] = [];
  const waiters: Array<{ n: number; resolve: () => void }> = [];
  const listener: FrameListener = (bytes, id, channel) => {
    received.push({ frame: decoder.decode(bytes), id, channel });
    for (const waiter of waiters.filter((w) => received.length >= w.n)) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve();
    }
  };
  const waitFor = async (n: number) => {
    if (received.length < n) await new Promise<void>((resolve) => waiters.push({ n, resolve }));
    return received;
  };
  const frames = () => received.map((r) => withoutId(r.frame));
  return { received, frames, listener, waitFor };
}

export const HISTORY: HistoryOptions = { maxLength: 1000, ttlSeconds: 3600 };
export const NO_HISTORY: HistoryOptions = { maxLength: 0, ttlSeconds: 3600 };
const redisBroker = (history: HistoryOptions) => () =>
  new RedisBroker({ url: inject("redisUrl"), timeoutMs: 2000, history });

const clusterBroker = (history: HistoryOptions) => () =>
  new RedisBroker({ clusterNodes: inject("clusterNodes"), timeoutMs: 3000, history });

/** A broker of either kind, which can also say how many listeners it holds. */
export type TestBroker = Broker & { listenerCount(channel?: string): number };

export const BROKERS: Array<[string, (history: HistoryOptions) => () => TestBroker]> = [
  ["memory", (history) => () => new MemoryBroker(history)],
  ["redis", redisBroker],
  ["redis cluster (sharded pub/sub)", clusterBroker],
];

/** A broker's history, which the test needs on. */
export function historyOf(broker: Broker): ChannelHistory {
  if (broker.history === undefined) throw new Error("this broker keeps no history");
  return broker.history;
}
