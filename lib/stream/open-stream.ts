import "server-only";
import type { Access } from "@/lib/access/authorize";
import { joinMembers, keepsMembers, watchMembers } from "@/lib/features/members";
import { streamCounters } from "@/lib/ops/counters";
import { singleton } from "@/lib/ops/singleton";
import { helloFrame } from "@/lib/sse/frame";
import type { StreamOptions } from "@/lib/stream/handle-request";
import { StreamLifecycle } from "@/lib/stream/lifecycle";
import { Outbox } from "@/lib/stream/outbox";
import { watchAccess } from "@/lib/stream/reauthorize";
import { countClient, countSink, track, untrack, updatePresence } from "@/lib/stream/registry";
import type { Rewind } from "@/lib/stream/session";
import { Session } from "@/lib/stream/session";
import type { OpenStream, StreamSignal } from "@/lib/transport/sinks";

/**
 * Assembles one stream once it was admitted: its lifecycle, session and outbox, its place in
 * the registry and its counts, members and re-authorization, each held by the lifecycle.
 */

/** A stream that ended before it started: its sink is ended at once. */
const GONE: Omit<OpenStream, "headers" | "maxBacklogBytes"> = {
  open: (sink) => sink.end(),
  cancel: () => {},
};

/** An open stream before its response headers are known. */
export type OpenedStream = Omit<OpenStream, "headers">;

/** Who and what one stream is for, beyond the shared options. */
export interface StreamParty {
  expiresAt?: number;
  holder?: { sub?: string; jti?: string; byRule: boolean };
  /** Access an app rule granted, asked again on a cadence (`SSE_REAUTHORIZE_SECONDS`). */
  recheck?: { key: string; check(): unknown; everyMs: number };
  client: string;
  rewind: Rewind;
  noticeChannels: string[];
  /** The token's user, a member of the stream's private channels while it is open. */
  member?: { sub: string; info: Access["presence"]; channels: string[] };
}

/**
 * Creates a stream's session and outbox, registers it, and waits (only if it must) until
 * it is subscribed and caught up. A client that leaves meanwhile (signal) is cleaned up once.
 */
export function openStream(
  channels: readonly string[],
  lastEventId: string | null,
  signal: StreamSignal,
  options: StreamOptions,
  party: StreamParty,
): OpenedStream | Promise<OpenedStream> {
  const { maxBacklogBytes } = options;
  // The client left before we started: nothing to subscribe, nobody to write to.
  if (signal.aborted) return { ...GONE, maxBacklogBytes };
  // Everything the stream takes is held by its lifecycle and released there, once, when
  // the outbox closes (the one close path), newest first.
  const lifecycle = new StreamLifecycle();
  const outbox = new Outbox(
    {
      maxBacklogBytes,
      maxStreamSeconds: options.maxStreamSeconds,
      expiresAt: party.expiresAt,
      holder: party.holder,
    },
    lifecycle,
  );
  const session = new Session(
    options.broker,
    channels,
    outbox,
    maxBacklogBytes,
    options.maxReplayBytes,
    party.noticeChannels,
  );
  const onAbort = () => outbox.close("client");
  signal.addEventListener("abort", onAbort, { once: true });
  track(outbox, options.heartbeatMs);
  countClient(party.client, 1);
  // What every stream takes, given back in one step: one closure per stream rather than one
  // per resource (at 10,000 streams each closure and its scope is memory the collector walks).
  lifecycle.hold((reason) => {
    signal.removeEventListener("abort", onAbort);
    if (reason === "slow_consumer") streamCounters().slowConsumerDrops++;
    countClient(party.client, -1);
    untrack(outbox);
    session.close();
  });
  const { recheck } = party;
  if (recheck !== undefined) {
    const end = () => outbox.revoke();
    lifecycle.hold(watchAccess({ key: recheck.key, check: recheck.check, end }, recheck.everyMs));
  }
  const opened = (): OpenedStream => {
    // The client may have left while we subscribed and replayed: it was cleaned up already.
    if (signal.aborted) return { ...GONE, maxBacklogBytes };
    updatePresence(channels, 1);
    lifecycle.hold(() => updatePresence(channels, -1));
    const { member } = party;
    if (member !== undefined && member.channels.length > 0) {
      lifecycle.hold(joinMembers(member.channels, member.sub, member.info));
    }
    if (party.noticeChannels.length > 0) {
      lifecycle.hold(watchMembers(channels.filter(keepsMembers)));
    }
    // The same bytes for every stream: encoded once.
    const { retryMs, heartbeatMs } = options;
    const hello = singleton(`hello-frame:${retryMs}:${heartbeatMs}`, () =>
      helloFrame(retryMs, heartbeatMs),
    );
    return {
      maxBacklogBytes,
      open: (sink) => {
        // Counted before attaching: the first flush may already end the stream.
        countSink(sink.kind, 1);
        lifecycle.hold(() => countSink(sink.kind, -1));
        outbox.attach(sink, hello);
      },
      cancel: onAbort,
    };
  };
  const failed = (error: unknown): never => {
    outbox.close("client");
    throw error;
  };
  let started: Promise<void> | undefined;
  try {
    started = session.start(lastEventId, party.rewind);
  } catch (error) {
    failed(error);
  }
  return started === undefined ? opened() : started.then(opened, failed);
}
