import "server-only";
import { type Access, authorizedStreamChannels, PUBLIC_ACCESS } from "@/lib/access/authorize";
import { clientAddress, warnIfOneProxy } from "@/lib/access/client-address";
import { corsHeaders, handlePreflight, withCors } from "@/lib/access/cors";
import { watchRevocations } from "@/lib/access/revocation";
import { type Broker, getBroker } from "@/lib/broker";
import { getConfig } from "@/lib/config";
import { keepsMembers } from "@/lib/features/members";
import {
  errorResponse,
  HttpError,
  jsonError,
  type RequestLike,
  retryAfter,
  SSE_HEADERS,
} from "@/lib/http";
import { type OpenedStream, openStream } from "@/lib/stream/open-stream";
import {
  countClientStreams,
  countOpenStreams,
  installShutdown,
  isDraining,
} from "@/lib/stream/registry";
import { readLastEventId, readMembers, readRewind } from "@/lib/stream/stream-query";
import type { OpenStream, StreamResult, StreamSignal } from "@/lib/transport/sinks";

/** How streams are served; every field defaults from the config (tests pass their own). */
export interface StreamOptions {
  broker: Broker;
  /** Reconnect delay sent to the browser with the first bytes, in ms. */
  retryMs: number;
  /** Idle time before a keep-alive comment, in ms; 0 for none. */
  heartbeatMs: number;
  /** Bytes that may wait for a slow client before the stream is dropped. */
  maxBacklogBytes: number;
  /** Seconds after which the stream ends with a reconnect hint, so the browser resumes; 0 for never. */
  maxStreamSeconds: number;
  /** Streams this process serves at most; past it, 503. */
  maxConnections: number;
  /** Bytes of history one catch-up replays before it sends `reset` instead. */
  maxReplayBytes: number;
}

const METHODS = "GET, HEAD, OPTIONS";

/**
 * The one entry point of every server for `/stream?channel=NAME[&channel=…]`: decides
 * OPTIONS (CORS preflight), HEAD (the headers GET would send, no stream), access, the
 * connection limit and draining, then subscribes and replays after `Last-Event-ID`.
 * Answers an error `Response` (400/401/403/405/503 JSON, CORS applied) or an `OpenStream`
 * whose subscriptions are confirmed: attach a sink with `open`. `signal` aborts when the
 * client leaves. Unexpected errors are thrown or rejected (the server answers 500).
 *
 * The answer is a promise only when something had to wait (a token's key, a SUBSCRIBE, a
 * history read): a new stream on a busy public channel is answered in the same turn, which
 * is most connections, with no promise to make, hook or resolve.
 */
export function handleStreamRequest(
  request: RequestLike,
  signal: StreamSignal,
  overrides: Partial<StreamOptions> = {},
): StreamResult | Promise<StreamResult> {
  if (request.method === "OPTIONS") return handlePreflight(request, METHODS);
  if (request.method !== "GET" && request.method !== "HEAD") {
    const refused = jsonError(405, "method_not_allowed", `${request.method} is not allowed here`);
    refused.headers.set("Allow", METHODS);
    return withCors(request, refused);
  }
  const refuse = (error: unknown) => withCors(request, errorResponse(error));
  try {
    // Parsed once here: this runs for every connection.
    const query = new URL(request.url).searchParams;
    const { channels, access } = authorizedStreamChannels(request, query);
    // Any thenable is awaited (a library's promise too): only a settled Access grants.
    if (isThenable(access)) {
      return Promise.resolve(access)
        .then((granted) => admit(request, query, channels, grantOf(granted), signal, overrides))
        .catch(refuse);
    }
    const admitted = admit(request, query, channels, grantOf(access), signal, overrides);
    return admitted instanceof Promise ? admitted.catch(refuse) : admitted;
  } catch (error) {
    return refuse(error);
  }
}

/**
 * For a server's adapter: calls `handleStreamRequest` and `write`s its answer, both in this
 * turn unless one has to wait (most new streams do not: no promise per connection), so no
 * adapter needs to know which. A failure is logged and `fail`s (the adapter answers 500).
 */
export function serveStreamRequest(
  request: RequestLike,
  signal: StreamSignal,
  write: (result: StreamResult) => Promise<void> | void,
  fail: () => void,
): void {
  const failed = (error: unknown) => {
    console.error("[next-sse] /stream failed:", error);
    fail();
  };
  try {
    const result = handleStreamRequest(request, signal);
    const written = result instanceof Promise ? result.then(write) : write(result);
    written?.catch(failed);
  } catch (error) {
    failed(error);
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === "object" || typeof value === "function") &&
    value !== null &&
    typeof (value as { then?: unknown }).then === "function"
  );
}

/**
 * What `authorize` granted, checked: an object (an `Access`). Anything else is a bug in a
 * custom rule, never access: thrown as an internal error (500, logged).
 */
function grantOf(value: unknown): Access {
  if (typeof value === "object" && value !== null && !Array.isArray(value)) return value as Access;
  throw new Error(`authorize() returned ${value === null ? "null" : typeof value}, not an Access`);
}

/** After access: limits, then the stream. Throws what `handleStreamRequest` turns into errors. */
function admit(
  request: RequestLike,
  query: URLSearchParams,
  channels: string[],
  access: Access,
  signal: StreamSignal,
  overrides: Partial<StreamOptions>,
): StreamResult | Promise<StreamResult> {
  const config = getConfig();
  const rewind = readRewind(query, channels, config.maxRewind);
  const noticeChannels = readMembers(query, channels);
  if (request.method === "HEAD") {
    return withCors(request, new Response(null, { headers: SSE_HEADERS }));
  }
  const options: StreamOptions = {
    broker: overrides.broker ?? getBroker(),
    retryMs: overrides.retryMs ?? config.retryMs,
    heartbeatMs: overrides.heartbeatMs ?? config.heartbeatMs,
    maxBacklogBytes: overrides.maxBacklogBytes ?? config.maxBacklogBytes,
    maxStreamSeconds: overrides.maxStreamSeconds ?? config.maxStreamSeconds,
    maxConnections: overrides.maxConnections ?? config.maxConnections,
    maxReplayBytes: overrides.maxReplayBytes ?? config.maxReplayBytes,
  };
  // Counted per client only where a per-client limit applies (the address costs a syscall).
  const client = config.maxStreamsPerClient > 0 ? clientAddress(request.headers) : "";
  refuseOverLimits(client, config.maxStreamsPerClient, options.maxConnections);
  if (client !== "")
    warnIfOneProxy(client, countClientStreams(client) + 1, config.maxStreamsPerClient);
  const identified = access.sub !== undefined || access.jti !== undefined;
  // No token's `exp` bounds this access, and it is not the static public answer: an app
  // rule's cookie or session granted it, so ask again.
  const byRule = access.expiresAt === undefined && access !== PUBLIC_ACCESS;
  const opened = openStream(channels, readLastEventId(request, query), signal, options, {
    expiresAt: access.expiresAt,
    holder: identified ? { sub: access.sub, jti: access.jti, byRule } : undefined,
    recheck:
      byRule && config.reauthorizeSeconds > 0
        ? recheckOf(request, query, channels, config.reauthorizeSeconds)
        : undefined,
    client,
    rewind,
    noticeChannels,
    member:
      access.sub === undefined
        ? undefined
        : { sub: access.sub, info: access.presence, channels: channels.filter(keepsMembers) },
  });
  installShutdown(config.shutdownTimeoutMs, config.drainSpreadMs);
  // A revocation on any instance must reach this token's stream.
  if (identified) watchRevocations();
  const cors = corsHeaders(request);
  const headers = Object.keys(cors).length === 0 ? SSE_HEADERS : { ...SSE_HEADERS, ...cors };
  const finish = (stream: OpenedStream): OpenStream => ({ ...stream, headers });
  return opened instanceof Promise ? opened.then(finish) : finish(opened);
}

/**
 * How a stream an app rule admitted is asked again. A function of its own, so that only
 * such a stream keeps its request: a closure made in `admit` would put the request in
 * `admit`'s scope, which the bundler's inlined stream code shares, and every stream would
 * keep its request, URL and headers alive (2 kB each, and longer garbage collections).
 */
function recheckOf(
  request: RequestLike,
  query: URLSearchParams,
  channels: string[],
  seconds: number,
) {
  return {
    key: identityKey(request, query, channels),
    check: () => authorizedStreamChannels(request, query).access,
    everyMs: seconds * 1000,
  };
}

/**
 * Admission: none while draining (503, retry in a second, elsewhere), at most
 * `perClient` streams per client address (429) and `maxConnections` per process (503).
 * @throws HttpError naming the limit, with Retry-After.
 */
function refuseOverLimits(client: string, perClient: number, maxConnections: number): void {
  if (isDraining()) {
    throw new HttpError(503, "shutting_down", "this server is shutting down: reconnect", {
      "Retry-After": retryAfter(2),
    });
  }
  if (perClient > 0 && countClientStreams(client) >= perClient) {
    throw new HttpError(
      429,
      "too_many_client_streams",
      `this client already holds ${perClient} streams here: close some`,
      { "Retry-After": retryAfter(5) },
    );
  }
  if (countOpenStreams() >= maxConnections) {
    throw new HttpError(
      503,
      "too_many_streams",
      `this server is at its limit of ${maxConnections} streams`,
      { "Retry-After": retryAfter(5) },
    );
  }
}

/**
 * The rule and identity a stream was admitted under: its channels and every credential a
 * rule may read (cookie, authorization, `?token=`). Equal keys get one policy call a round.
 */
function identityKey(
  request: RequestLike,
  query: URLSearchParams,
  channels: readonly string[],
): string {
  const { headers } = request;
  return [
    channels.join(","),
    headers.get("cookie") ?? "",
    headers.get("authorization") ?? "",
    query.get("token") ?? "",
  ].join("\0");
}
