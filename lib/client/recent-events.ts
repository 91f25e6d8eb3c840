import type { StreamEvent } from "@/lib/client/stream-state";
import { compareStreamIds } from "@/lib/sse/ids";

/** Events a hosted connection remembers for clients that join it from behind (256). */
export const RECENT_EVENTS = 256;

/**
 * The events one hosted connection delivered lately, so a client that joins it from an
 * earlier position is caught up instead of silently skipping ahead: the tabs that re-subscribe
 * to a new leader one by one (the first opens the stream, the others arrive while it already
 * replays), or a tab back from the back/forward cache. Only events with a position are kept;
 * they are what a tab de-duplicates by.
 */
export class RecentEvents {
  private readonly events: StreamEvent[] = [];
  /** Per channel: every event after this position is in the log. */
  private readonly coveredFrom: Map<string, string>;

  /** `start`: the positions the connection opened with (it receives everything after them). */
  constructor(
    start: ReadonlyMap<string, string>,
    private readonly limit = RECENT_EVENTS,
  ) {
    this.coveredFrom = new Map(start);
  }

  /** Records an event the connection delivered. */
  add(event: StreamEvent): void {
    if (event.position === undefined || event.channel === "") return;
    this.events.push(event);
    if (this.events.length <= this.limit) return;
    const dropped = this.events.shift() as StreamEvent;
    this.coveredFrom.set(dropped.channel, dropped.position as string);
  }

  /** Whether every event of `channel` after `position` is in the log. */
  covers(channel: string, position: string): boolean {
    const from = this.coveredFrom.get(channel);
    if (from !== undefined && compareStreamIds(position, from) >= 0) return true;
    // The client has an event the log holds: everything after it is here.
    return this.events.some(
      (event) =>
        event.channel === channel && compareStreamIds(event.position as string, position) <= 0,
    );
  }

  /** The events after `positions` (channels without one: none), in the order delivered. */
  after(positions: ReadonlyMap<string, string>): StreamEvent[] {
    return this.events.filter((event) => {
      const at = positions.get(event.channel);
      return at !== undefined && compareStreamIds(event.position as string, at) > 0;
    });
  }
}
