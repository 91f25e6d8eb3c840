import type { StreamHost } from "@/lib/client/host";
import { StreamHub } from "@/lib/client/hub";
import { CLIENT_LOCK_PREFIX, type ClientMessage, type HostMessage } from "@/lib/client/protocol";

/**
 * This tab's link to the host that holds the origin's streams, chosen once per tab:
 * - `shared-worker`: one SharedWorker holds every stream of every tab, so a tab blocked by
 *   `alert()` (or busy) does not stall the others, and the browser's six connections per
 *   origin are not spent one per tab;
 * - `leader`: where SharedWorker is missing, the tab holding a Web Lock is the host and
 *   relays over BroadcastChannel; when it closes, the next tab takes the lock and resumes
 *   from the position of the tab furthest behind;
 * - `local`: where neither exists, this tab holds its own streams.
 */
export type HostKind = "shared-worker" | "leader" | "local";

const LEADER_LOCK = "next-sse-leader";
const BROADCAST_NAME = "next-sse";
/** A tab hidden longer than this (ms) wakes its streams when it is shown again. */
const LONG_SLEEP_MS = 30_000;
const TAB_CLIENT = Symbol.for("next-sse.tab-client");

type Relay =
  | { to: "host"; from: string; message: ClientMessage }
  | { to: string; message: HostMessage };

export class TabClient {
  readonly id = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
  readonly kind: HostKind;
  private readonly hubs = new Map<string, StreamHub>();
  private readonly post: (message: ClientMessage) => void;

  constructor(preferred?: HostKind) {
    const deliver = (message: HostMessage) => this.deliver(message);
    const kind = preferred ?? detectHostKind();
    // Posts wait until this tab holds its lock: a host that asked for it earlier would
    // get it at once and take the tab for gone.
    const lockHeld = holdClientLock(this.id);
    let post: ((message: ClientMessage) => void) | undefined;
    if (kind === "shared-worker") post = connectSharedWorker(this.id, deliver);
    if (post === undefined && kind !== "local" && canElectLeader()) {
      post = connectLeader(this.id, deliver);
      this.kind = "leader";
    } else this.kind = post === undefined ? "local" : "shared-worker";
    if (post === undefined) post = connectLocal(this.id, deliver);
    const send = post;
    this.post = (message) => void lockHeld.then(() => send(message));
    this.watchPage();
  }

  /** The streams of one URL in this tab. */
  hub(url: string, maxChannels: number): StreamHub {
    let hub = this.hubs.get(url);
    if (hub === undefined) {
      hub = new StreamHub(url, this.post, maxChannels);
      this.hubs.set(url, hub);
    }
    return hub;
  }

  private deliver(message: HostMessage): void {
    switch (message.type) {
      case "hello":
        for (const hub of this.hubs.values()) hub.sync();
        return;
      case "token?": {
        const hub = this.hubs.get(message.url);
        const answer = (token: string | null) =>
          this.post({ type: "token", requestId: message.requestId, token });
        if (hub === undefined) answer(null);
        else hub.token(message.channels).then(answer, () => answer(null));
        return;
      }
      default:
        this.hubs.get(message.url)?.receive(message);
    }
  }

  /** `online`, a long-hidden tab shown again: retry now. Leaving: say goodbye. */
  private watchPage(): void {
    if (typeof window === "undefined") return;
    window.addEventListener("online", () => this.post({ type: "wake" }));
    let hiddenAt = 0;
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "hidden") hiddenAt = Date.now();
      else if (hiddenAt > 0 && Date.now() - hiddenAt > LONG_SLEEP_MS) this.post({ type: "wake" });
    });
    window.addEventListener("pagehide", () => this.post({ type: "bye" }));
    // Back from the back/forward cache: the host forgot this tab; tell it again.
    window.addEventListener("pageshow", (event) => {
      if (event.persisted) for (const hub of this.hubs.values()) hub.sync();
    });
  }
}

/** This tab's client, created on first use (browser only). */
export function getTabClient(): TabClient {
  const holder = globalThis as { [TAB_CLIENT]?: TabClient };
  holder[TAB_CLIENT] ??= new TabClient();
  return holder[TAB_CLIENT];
}

function detectHostKind(): HostKind {
  if (typeof SharedWorker === "function") return "shared-worker";
  return canElectLeader() ? "leader" : "local";
}

function canElectLeader(): boolean {
  return (
    typeof BroadcastChannel === "function" && typeof navigator !== "undefined" && !!navigator.locks
  );
}

/** Holds `next-sse-client-<id>` for the tab's life; resolves once it is held. */
function holdClientLock(id: string): Promise<void> {
  if (typeof navigator === "undefined" || !navigator.locks) return Promise.resolve();
  return new Promise((held) => {
    void navigator.locks.request(`${CLIENT_LOCK_PREFIX}${id}`, () => {
      held();
      return new Promise(() => {});
    });
  });
}

function connectSharedWorker(
  id: string,
  deliver: (message: HostMessage) => void,
): ((message: ClientMessage) => void) | undefined {
  try {
    const worker = new SharedWorker(new URL("./stream-worker.ts", import.meta.url), {
      name: "next-sse",
    });
    worker.port.onmessage = (event: MessageEvent<HostMessage>) => deliver(event.data);
    worker.port.start();
    return (message) => worker.port.postMessage({ clientId: id, message });
  } catch {
    return undefined;
  }
}

/**
 * The host code (connection, parser, backoff) is loaded only by a tab that holds streams
 * itself: where a SharedWorker holds them, the page never downloads it.
 */
async function loadHost(): Promise<StreamHost> {
  const { StreamHost } = await import("@/lib/client/host");
  return new StreamHost();
}

function connectLocal(id: string, deliver: (message: HostMessage) => void) {
  const host = loadHost();
  // In order, once the host is there.
  let queue = Promise.resolve();
  return (message: ClientMessage) => {
    queue = queue.then(async () => (await host).receive(id, message, deliver));
  };
}

function connectLeader(id: string, deliver: (message: HostMessage) => void) {
  const channel = new BroadcastChannel(BROADCAST_NAME);
  let host: StreamHost | null = null;
  const seen = new Set<string>();
  const sendTo = (to: string, message: HostMessage) => {
    if (to === id) deliver(message);
    else channel.postMessage({ to, message } satisfies Relay);
  };
  const toHost = (from: string, message: ClientMessage) => {
    if (host === null) return;
    if (from !== id && !seen.has(from)) {
      seen.add(from);
      // Granted when that tab is gone: its channels go with it.
      void navigator.locks.request(`${CLIENT_LOCK_PREFIX}${from}`, () => {
        seen.delete(from);
        host?.remove(from);
      });
    }
    host.receive(from, message, (reply) => sendTo(from, reply));
  };
  channel.onmessage = (event: MessageEvent<Relay>) => {
    const relay = event.data;
    if (relay.to === "host" && "from" in relay) toHost(relay.from, relay.message);
    else if ((relay.to === id || relay.to === "*") && "message" in relay) {
      deliver(relay.message as HostMessage);
    }
  };
  void navigator.locks.request(LEADER_LOCK, async () => {
    // This tab leads until it closes: every tab sends its subscriptions again.
    host = await loadHost();
    sendTo("*", { type: "hello" });
    deliver({ type: "hello" });
    await new Promise(() => {});
  });
  return (message: ClientMessage) => {
    if (host !== null) toHost(id, message);
    else channel.postMessage({ to: "host", from: id, message } satisfies Relay);
  };
}
