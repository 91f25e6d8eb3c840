import "server-only";
import type { RecoveryPhase } from "@/lib/broker/types";

/**
 * Tells streams when subscriptions may be missing events and when they are whole again
 * (`Broker.onRecover`): every `lost` is followed by a `restored`, and a callback that
 * registers while subscriptions are lost hears `lost` at once.
 */
export class RecoveryNotices {
  private readonly callbacks = new Set<(phase: RecoveryPhase) => void>();
  /** Since when subscriptions may be missing events (a `lost` not yet `restored`). */
  private lostAt: number | undefined;

  /** How long subscriptions have been lost, or undefined while they are whole. */
  lostFor(now = Date.now()): number | undefined {
    return this.lostAt === undefined ? undefined : now - this.lostAt;
  }

  lost(): void {
    if (this.lostAt === undefined) this.lostAt = Date.now();
    for (const callback of this.callbacks) callback("lost");
  }

  restored(): void {
    this.lostAt = undefined;
    for (const callback of this.callbacks) callback("restored");
  }

  on(callback: (phase: RecoveryPhase) => void): () => void {
    this.callbacks.add(callback);
    // A stream that opens while subscriptions may be missing events holds live ones too:
    // otherwise one that arrives before `restored` moves it past what was missed.
    if (this.lostAt !== undefined) callback("lost");
    return () => this.callbacks.delete(callback);
  }
}
