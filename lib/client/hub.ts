import type { ClientMessage, HostMessage } from "@/lib/client/protocol";
import {
  CONNECTING_STATE,
  type GetToken,
  type StreamEvent,
  type StreamState,
} from "@/lib/client/stream-state";
import { advancePosition, compareStreamIds } from "@/lib/sse/ids";

/**
 * A tab's side of the streams: what its components listen to, per stream URL, sent to the
 * host that holds the connections (a SharedWorker, a leader tab, or this tab), and the
 * host's events handed to the components that want them. The tab keeps its own position per
 * channel and drops every event at or below it, so a host that changes hands and resumes
 * from an earlier tab's position never shows this tab an event twice.
 */

/** One component's interest in some channels. */
export interface StreamListener {
  channels: readonly string[];
  rewind?: number;
  /**
   * Where this listener starts, per channel (a server render's position): the tab resumes
   * there on channels it holds no position in yet, and the host catches it up from there.
   */
  after?: ReadonlyMap<string, string>;
  /** Supplies tokens for these channels; they then travel in a stream of their own. */
  getToken?: GetToken;
  /** An app-defined access group (`"session"`): its channels travel in a stream of their own. */
  access?: string;
  onEvent(event: StreamEvent): void;
  /** The state of the stream carrying these channels changed. */
  onState?(): void;
}

/** Sends a message to the host. */
export type PostToHost = (message: ClientMessage) => void;

/** The streams of one URL (e.g. `/stream`) in this tab. */
export class StreamHub {
  private readonly listeners = new Set<StreamListener>();
  private readonly positions = new Map<string, string>();
  private readonly states = new Map<string, StreamState>();
  private syncQueued = false;

  constructor(
    readonly url: string,
    private readonly post: PostToHost,
    private readonly maxChannels: number,
  ) {}

  /** Listens until the returned function is called. */
  subscribe(listener: StreamListener): () => void {
    // Where a server render left off: a new stream resumes there, a shared one catches this
    // tab up from there. A tab already further on (another component had the channel) stays.
    for (const [channel, position] of listener.after ?? []) {
      if (!this.positions.has(channel)) this.positions.set(channel, position);
    }
    this.listeners.add(listener);
    this.queueSync();
    return () => {
      if (this.listeners.delete(listener)) this.queueSync();
    };
  }

  /** The state of the stream(s) carrying `channels`: the least healthy one. */
  stateOf(channels: readonly string[]): StreamState {
    let worst: StreamState | undefined;
    for (const channel of channels) {
      const state = this.states.get(channel) ?? CONNECTING_STATE;
      if (worst === undefined || rank(state) > rank(worst)) worst = state;
    }
    return worst ?? CONNECTING_STATE;
  }

  /** Drops the stream(s) carrying `channels` and resumes at once. */
  reconnect(channels: readonly string[]): void {
    this.post({ type: "reconnect", url: this.url, channels: [...channels] });
  }

  /** Sends what this tab listens to again (a new host asked, or listeners changed). */
  sync(): void {
    this.post({
      type: "subscribe",
      url: this.url,
      wanted: [...this.listeners].map((listener) => ({
        channels: [...listener.channels],
        rewind: listener.rewind ?? 0,
        auth: listener.getToken !== undefined,
        ...(listener.access === undefined ? {} : { access: listener.access }),
      })),
      positions: [...this.positions],
      maxChannels: this.maxChannels,
    });
  }

  private queueSync(): void {
    if (this.syncQueued) return;
    this.syncQueued = true;
    // After this turn: StrictMode's unmount-and-remount sends nothing.
    queueMicrotask(() => {
      this.syncQueued = false;
      this.sync();
    });
  }

  /** A message from the host about this URL. */
  receive(message: HostMessage): void {
    if (message.type === "state") {
      for (const channel of message.channels) this.states.set(channel, message.state);
      for (const listener of this.listeners) {
        if (listener.channels.some((c) => message.channels.includes(c))) listener.onState?.();
      }
      return;
    }
    if (message.type !== "event") return;
    const { event } = message;
    for (const [channel, id] of event.positions ?? []) advancePosition(this.positions, channel, id);
    if (event.position !== undefined) {
      const previous = this.positions.get(event.channel);
      if (previous !== undefined && compareStreamIds(event.position, previous) <= 0) return;
      this.positions.set(event.channel, event.position);
    }
    const channels = event.channel === "" ? message.channels : [event.channel];
    for (const listener of this.listeners) {
      if (listener.channels.some((c) => channels.includes(c))) listener.onEvent(event);
    }
  }

  /** A token for `channels`, from the listener that covers them all (null: none does). */
  async token(channels: readonly string[]): Promise<string | null> {
    for (const listener of this.listeners) {
      if (listener.getToken && channels.every((c) => listener.channels.includes(c))) {
        return (await listener.getToken(channels)) ?? null;
      }
    }
    return null;
  }
}

function rank(state: StreamState): number {
  return { open: 0, connecting: 1, reconnecting: 2, closed: 3 }[state.status];
}
