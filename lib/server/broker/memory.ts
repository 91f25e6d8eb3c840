import "server-only";
import { ChannelListeners } from "@/lib/server/broker/listeners";
import type { Broker, FrameListener } from "@/lib/server/broker/types";

/**
 * A broker inside one process, for development without Redis. It cannot reach other
 * processes, so it is for a single `next dev` or `next start`.
 */
export class MemoryBroker implements Broker {
  readonly kind = "memory";
  private readonly listeners = new ChannelListeners();

  async publish(channel: string, frame: Uint8Array): Promise<number> {
    return this.listeners.dispatch(channel, frame) > 0 ? 1 : 0;
  }

  async subscribe(channel: string, listener: FrameListener): Promise<void> {
    this.listeners.add(channel, listener);
  }

  unsubscribe(channel: string, listener: FrameListener): void {
    this.listeners.remove(channel, listener);
  }

  listenerCount(channel?: string): number {
    return this.listeners.count(channel);
  }

  async ping(): Promise<boolean> {
    return true;
  }

  async close(): Promise<void> {}
}
