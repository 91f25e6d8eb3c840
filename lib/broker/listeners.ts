import "server-only";
import type { FrameListener } from "@/lib/broker/types";
import { brokerCounters } from "@/lib/ops/counters";

/** In-process fan-out: channel -> listeners. Both brokers deliver through one of these. */
export class ChannelListeners {
  private readonly channels = new Map<string, Set<FrameListener>>();
  private total = 0;
  private readonly gauges = brokerCounters();

  /** Adds a listener; true when it is the channel's first (time to subscribe). */
  add(channel: string, listener: FrameListener): boolean {
    let set = this.channels.get(channel);
    const first = set === undefined;
    if (set === undefined) {
      set = new Set();
      this.channels.set(channel, set);
    }
    if (!set.has(listener)) {
      set.add(listener);
      this.total++;
      this.gauges.listeners++;
    }
    return first;
  }

  /** Removes a listener; true when it was the channel's last (time to unsubscribe). */
  remove(channel: string, listener: FrameListener): boolean {
    const set = this.channels.get(channel);
    if (set === undefined || !set.delete(listener)) return false;
    this.total--;
    this.gauges.listeners--;
    if (set.size > 0) return false;
    this.channels.delete(channel);
    return true;
  }

  /** Channels with at least one listener. */
  listened(): string[] {
    return [...this.channels.keys()];
  }

  count(channel?: string): number {
    return channel === undefined ? this.total : (this.channels.get(channel)?.size ?? 0);
  }

  /** Hands one event to every listener of a channel; a throwing listener does not stop the rest. */
  dispatch(channel: string, frame: Uint8Array, id: string | undefined): number {
    const set = this.channels.get(channel);
    if (set === undefined) return 0;
    for (const listener of set) {
      try {
        listener(frame, id, channel);
      } catch (error) {
        console.error("[next-sse] listener failed", error);
      }
    }
    return set.size;
  }
}
