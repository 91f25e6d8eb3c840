import "server-only";
import { ChannelListeners } from "@/lib/broker/listeners";
import type {
  Broker,
  FrameListener,
  OutgoingEvent,
  PublishResult,
  RecoveryPhase,
} from "@/lib/broker/types";
import { MemoryHistory } from "@/lib/history/memory";
import { type HistoryOptions, keepsHistory } from "@/lib/history/types";
import { closeFrame, frameBytes } from "@/lib/sse/frame";

/**
 * A broker inside one process, for development without Redis: the same semantics as the
 * Redis broker (history in a ring buffer, ids `<ms>-<seq>`), but it cannot reach other
 * processes, so it is for a single `next dev` or `next start`.
 */
export class MemoryBroker implements Broker {
  readonly kind = "memory";
  readonly history: MemoryHistory | undefined;
  private readonly listeners = new ChannelListeners();

  constructor(history: HistoryOptions = { maxLength: 1000, ttlSeconds: 3600 }) {
    this.history = keepsHistory(history) ? new MemoryHistory(history) : undefined;
  }

  async publish(channel: string, event: OutgoingEvent): Promise<PublishResult> {
    if (this.history === undefined || event.transient) {
      const id = event.transient ? undefined : event.id;
      const frame = frameBytes(closeFrame(event.body, id));
      const receivers = this.listeners.dispatch(channel, frame, undefined) > 0 ? 1 : 0;
      return { id, receivers, duplicate: false };
    }
    const appended = this.history.append(channel, event.body, event.id, event.retention, event.at);
    if (appended.duplicate) return { id: appended.id, receivers: 0, duplicate: true };
    const { id, frame } = appended.entry;
    const receivers = this.listeners.dispatch(channel, frame, id) > 0 ? 1 : 0;
    return { id, receivers, duplicate: false };
  }

  subscribe(channel: string, listener: FrameListener): Promise<void> | undefined {
    this.listeners.add(channel, listener);
    return undefined;
  }

  unsubscribe(channel: string, listener: FrameListener): void {
    this.listeners.remove(channel, listener);
  }

  /** Listeners in this process, on one channel or on all (for tests). */
  listenerCount(channel?: string): number {
    return this.listeners.count(channel);
  }

  /** In-process delivery never drops, so there is never anything to recover. */
  onRecover(_callback: (phase: RecoveryPhase) => void): () => void {
    return () => {};
  }

  async ping(): Promise<boolean> {
    return true;
  }

  async close(): Promise<void> {}
}
