import { type Clock, StreamConnection } from "@/lib/client/connection";
import { groupStreams, type WantedStream } from "@/lib/client/grouping";
import { probeRefused } from "@/lib/client/probe";
import type { ClientMessage, HostMessage, WantedChannels } from "@/lib/client/protocol";
import { RecentEvents } from "@/lib/client/recent-events";
import type { StreamEvent, StreamState } from "@/lib/client/stream-state";
import { compareStreamIds } from "@/lib/sse/ids";

/**
 * Holds the streams of every client (tab) it serves: the union of what they listen to,
 * grouped into as few connections as the server allows (public channels together, each
 * access group and each token-bearing set apart, so a refused token cannot cut the public
 * ones), and fans events out to the clients that want them. When the server refuses a
 * stream of several channels anyway (a login-gated channel among public ones), the refused
 * channels are found, set apart and reported to their own listeners only; the rest
 * reconnect together at once, resuming where they were. One per SharedWorker, leader tab,
 * or lone tab.
 */

interface ClientEntry {
  send(message: HostMessage): void;
  /** Per stream URL: what the client listens to and where it stands. */
  urls: Map<string, { wanted: WantedChannels[]; positions: Map<string, string> }>;
  maxChannels: number;
}

interface Hosted {
  key: string;
  url: string;
  channels: string[];
  auth: boolean;
  connection: StreamConnection;
  /** The clients it serves already: a client new to it may need catching up. */
  members: Set<string>;
  recent: RecentEvents;
  /** Replaced by a regroup: its closing says nothing (its channels live on elsewhere). */
  retired?: boolean;
}

export interface StreamHostOptions {
  fetch?: typeof fetch;
  clock?: Clock;
  random?: () => number;
  /** How long a tab may take to answer a token request (ms, 10000). */
  tokenTimeoutMs?: number;
}

export class StreamHost {
  private readonly clients = new Map<string, ClientEntry>();
  private readonly hosted = new Map<string, Hosted>();
  /** `url\nchannel` of channels the server refused in company: each gets its own stream. */
  private readonly isolated = new Set<string>();
  private readonly tokenRequests = new Map<number, (token: string | null) => void>();
  private nextRequestId = 1;
  private reconcileQueued = false;

  constructor(private readonly options: StreamHostOptions = {}) {}

  /** A message from a client; `send` answers it. */
  receive(clientId: string, message: ClientMessage, send: (message: HostMessage) => void): void {
    switch (message.type) {
      case "subscribe": {
        let client = this.clients.get(clientId);
        if (client === undefined) {
          client = { send, urls: new Map(), maxChannels: message.maxChannels };
          this.clients.set(clientId, client);
        }
        client.send = send;
        client.maxChannels = message.maxChannels;
        if (message.wanted.length === 0) client.urls.delete(message.url);
        else {
          client.urls.set(message.url, {
            wanted: message.wanted,
            positions: new Map(message.positions),
          });
        }
        this.queueReconcile();
        return;
      }
      case "token":
        this.tokenRequests.get(message.requestId)?.(message.token);
        this.tokenRequests.delete(message.requestId);
        return;
      case "wake":
        for (const { connection } of this.hosted.values()) connection.wake();
        return;
      case "reconnect":
        for (const hosted of this.hosted.values()) {
          if (hosted.url !== message.url) continue;
          if (hosted.channels.some((channel) => message.channels.includes(channel))) {
            hosted.connection.reconnect();
          }
        }
        return;
      case "bye":
        this.remove(clientId);
        return;
    }
  }

  /** A client left (its tab closed): its channels go unless another client wants them. */
  remove(clientId: string): void {
    for (const hosted of this.hosted.values()) hosted.members.delete(clientId);
    if (this.clients.delete(clientId)) this.queueReconcile();
  }

  /** Closes every stream. */
  close(): void {
    for (const { connection } of this.hosted.values()) connection.close();
    this.hosted.clear();
    this.clients.clear();
  }

  /** How many connections are open, for tests and diagnostics. */
  connectionCount(): number {
    return this.hosted.size;
  }

  private queueReconcile(): void {
    if (this.reconcileQueued) return;
    this.reconcileQueued = true;
    // After the current turn: a render that unmounts and mounts changes nothing.
    queueMicrotask(() => {
      this.reconcileQueued = false;
      this.reconcile();
    });
  }

  private reconcile(): void {
    const desired = groupStreams(this.clients.values(), this.isolated);
    // Where each channel stands now, before connections close.
    const known = new Map<string, string>();
    for (const hosted of this.hosted.values()) {
      for (const [channel, id] of hosted.connection.currentPositions()) {
        known.set(`${hosted.url}\n${channel}`, id);
      }
    }
    for (const [key, hosted] of this.hosted) {
      if (desired.has(key)) continue;
      hosted.retired = true;
      hosted.connection.close();
      this.hosted.delete(key);
    }
    for (const [key, want] of desired) {
      const existing = this.hosted.get(key);
      if (existing === undefined) this.open(key, want, known);
      else if (!this.welcome(existing)) {
        // A client further behind than the log reaches: resume the stream from its
        // position; the clients ahead of it drop what they already had.
        existing.retired = true;
        existing.connection.close();
        this.hosted.delete(key);
        for (const channel of want.channels) known.delete(`${want.url}\n${channel}`);
        this.open(key, want, known);
      }
    }
  }

  /**
   * Catches up the clients new to an open stream from its recent events, and tells them its
   * state. False when one of them is behind what the log holds.
   */
  private welcome(hosted: Hosted): boolean {
    for (const id of hosted.members) {
      const client = this.clients.get(id);
      if (client === undefined || !this.wants(client, hosted)) hosted.members.delete(id);
    }
    const joined: ClientEntry[] = [];
    const current = hosted.connection.currentPositions();
    for (const [id, client] of this.clients) {
      if (hosted.members.has(id) || !this.wants(client, hosted)) continue;
      const positions = client.urls.get(hosted.url)?.positions;
      for (const channel of hosted.channels) {
        const at = positions?.get(channel);
        const host = current.get(channel);
        if (at === undefined || host === undefined || compareStreamIds(at, host) >= 0) continue;
        if (!hosted.recent.covers(channel, at)) return false;
      }
      joined.push(client);
      hosted.members.add(id);
    }
    const state = hosted.connection.currentState();
    for (const client of joined) {
      client.send({ type: "state", url: hosted.url, channels: hosted.channels, state });
      for (const event of hosted.recent.after(
        client.urls.get(hosted.url)?.positions ?? new Map(),
      )) {
        client.send({ type: "event", url: hosted.url, channels: hosted.channels, event });
      }
    }
    return true;
  }

  private open(key: string, want: WantedStream, known: Map<string, string>): void {
    const positions = new Map<string, string>();
    let rewind = 0;
    for (const channel of want.channels) {
      const hostPosition = known.get(`${want.url}\n${channel}`);
      if (hostPosition !== undefined) {
        positions.set(channel, hostPosition);
        continue;
      }
      // A new host: resume from the tab furthest behind; the others drop what they had.
      for (const client of this.clients.values()) {
        const entry = client.urls.get(want.url);
        const at = entry?.positions.get(channel);
        if (at === undefined) continue;
        const lowest = positions.get(channel);
        if (lowest === undefined || compareStreamIds(at, lowest) < 0) positions.set(channel, at);
      }
      for (const client of this.clients.values()) {
        for (const wanted of client.urls.get(want.url)?.wanted ?? []) {
          if (wanted.channels.includes(channel)) rewind = Math.max(rewind, wanted.rewind);
        }
      }
    }
    const hosted: Hosted = {
      key,
      url: want.url,
      channels: want.channels,
      auth: want.auth,
      connection: new StreamConnection({
        url: want.url,
        channels: want.channels,
        positions,
        rewind,
        getToken: want.auth ? (channels) => this.requestToken(want.url, channels) : undefined,
        onEvent: (event) => this.broadcastEvent(hosted, event),
        onState: (state) => this.broadcastState(hosted, state),
        onRefused: () => this.split(hosted),
        fetch: this.options.fetch,
        clock: this.options.clock,
        random: this.options.random,
      }),
      members: new Set(),
      recent: new RecentEvents(positions),
    };
    for (const [id, client] of this.clients) {
      if (this.wants(client, hosted)) hosted.members.add(id);
    }
    this.hosted.set(key, hosted);
    hosted.connection.start();
  }

  /**
   * A stream of several channels was refused: which channels the server refuses is found
   * (a HEAD each), those are set apart, and the stream is regrouped without them. Nothing
   * is reported to the others' listeners meanwhile; their new stream resumes where this one
   * stood.
   */
  private split(hosted: Hosted): boolean {
    const fetchFn = this.options.fetch ?? fetch;
    const token = hosted.auth
      ? (channels: readonly string[]) => this.requestToken(hosted.url, channels)
      : undefined;
    void probeRefused(hosted.url, hosted.channels, fetchFn, token).then((refused) => {
      if (this.hosted.get(hosted.key) !== hosted) return; // regrouped meanwhile
      // None refused alone (access changed meanwhile): each is set apart, to find out.
      for (const channel of refused.length > 0 ? refused : hosted.channels) {
        this.isolated.add(`${hosted.url}\n${channel}`);
      }
      this.reconcile();
    });
    return true;
  }

  /** The clients that want something `hosted` carries (of `channel`, when given). */
  private wants(client: ClientEntry, hosted: Hosted, channel?: string): boolean {
    const wanted = client.urls.get(hosted.url)?.wanted ?? [];
    return wanted.some(
      (want) =>
        want.auth === hosted.auth &&
        want.channels.some((c) =>
          channel === undefined || channel === "" ? hosted.channels.includes(c) : c === channel,
        ),
    );
  }

  /** Sends to the members of `hosted` that want `channel`; a joining client waits for its welcome. */
  private sendToMembers(hosted: Hosted, message: HostMessage, channel?: string): void {
    for (const id of hosted.members) {
      const client = this.clients.get(id);
      if (client !== undefined && this.wants(client, hosted, channel)) client.send(message);
    }
  }

  private broadcastEvent(hosted: Hosted, event: StreamEvent): void {
    hosted.recent.add(event);
    const message: HostMessage = {
      type: "event",
      url: hosted.url,
      channels: hosted.channels,
      event,
    };
    this.sendToMembers(hosted, message, event.channel);
  }

  private broadcastState(hosted: Hosted, state: StreamState): void {
    if (hosted.retired) return;
    const message: HostMessage = {
      type: "state",
      url: hosted.url,
      channels: hosted.channels,
      state,
    };
    this.sendToMembers(hosted, message);
  }

  /** Asks a tab that listens with a token for one covering `channels`. */
  private requestToken(url: string, channels: readonly string[]): Promise<string | null> {
    const client = [...this.clients.values()].find((entry) =>
      entry.urls
        .get(url)
        ?.wanted.some((want) => want.auth && channels.every((c) => want.channels.includes(c))),
    );
    if (client === undefined) return Promise.resolve(null);
    const requestId = this.nextRequestId++;
    return new Promise<string | null>((resolve, reject) => {
      const timeoutMs = this.options.tokenTimeoutMs ?? 10_000;
      const timer = setTimeout(() => {
        this.tokenRequests.delete(requestId);
        reject(new Error("no token in time"));
      }, timeoutMs);
      this.tokenRequests.set(requestId, (token) => {
        clearTimeout(timer);
        resolve(token);
      });
      client.send({ type: "token?", requestId, url, channels });
    });
  }
}
