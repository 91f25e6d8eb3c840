/** Why a stream closed: the client left, the stream ended cleanly, or it was dropped. */
export type CloseReason = "client" | "ended" | "slow_consumer";

/**
 * Where one stream stands. Who moves it:
 * - `opening`: made by `openStream` (or `subscribe`): subscribing, first history read;
 * - `replaying`: `Session.catchUp` sends history; its bytes are paced by the client's reading
 *   (`Outbox.room`), so they never count as a slow consumer, and live events wait;
 * - `live`: the catch-up is done (or there was none): live events flow, the backlog bound
 *   holds; a broker recovery moves it back to `replaying`;
 * - `ending`: `Outbox.end` queued a last frame (a reason, the reconnect hint); the stream
 *   closes once that is written;
 * - `closed`: `Outbox.close`, the one close path: everything held is released, once.
 */
export type StreamPhase = "opening" | "replaying" | "live" | "ending" | "closed";

/**
 * One stream's life: its phase, and what it holds (counters, subscriptions, members, timers,
 * its place in the registry), released once when it closes, newest first. The session and
 * the outbox read the phase from here and move it; neither sets the other's flags.
 */
export class StreamLifecycle {
  private current: StreamPhase = "opening";
  private readonly releases: Array<(reason: CloseReason) => void> = [];

  get phase(): StreamPhase {
    return this.current;
  }

  get closed(): boolean {
    return this.current === "closed";
  }

  /** Live events are delivered as they come (not held for a replay). */
  get flowing(): boolean {
    return this.current === "live" || this.current === "ending";
  }

  /** Something to undo when the stream closes; undone at once if it is closed already. */
  hold(release: (reason: CloseReason) => void): void {
    if (this.current === "closed") release("client");
    else this.releases.push(release);
  }

  /** A catch-up starts (at first, or after a broker recovery). */
  startReplay(): void {
    if (this.current === "opening" || this.current === "live") this.current = "replaying";
  }

  /** The catch-up is done, or there was nothing to catch up on. */
  goLive(): void {
    if (this.current === "opening" || this.current === "replaying") this.current = "live";
  }

  /** False when it is ending or closed already. */
  beginEnding(): boolean {
    if (this.current === "ending" || this.current === "closed") return false;
    this.current = "ending";
    return true;
  }

  /** The one close path: false when it was closed already (nothing is released twice). */
  close(reason: CloseReason): boolean {
    if (this.current === "closed") return false;
    this.current = "closed";
    for (let i = this.releases.length - 1; i >= 0; i--) {
      try {
        this.releases[i](reason);
      } catch (error) {
        // One failed release must not keep the others (counts, subscriptions) held.
        console.error("[next-sse] releasing a stream failed:", error);
      }
    }
    this.releases.length = 0;
    return true;
  }
}
