import "server-only";
import { timingSafeEqual } from "node:crypto";
import { isBrokerUnavailable } from "@/lib/broker/types";
import { countRejected } from "@/lib/ops/counters";
import { createLogger } from "@/lib/ops/log";
import { singleton } from "@/lib/ops/singleton";

/** Headers of every SSE response: no caching, no compression, no proxy buffering. */
export const SSE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  "Content-Type": "text/event-stream; charset=utf-8",
  "Cache-Control": "no-cache, no-transform",
  "X-Accel-Buffering": "no",
});

/**
 * What the access checks read of a request: its method, URL and headers. A web `Request`
 * is one; the production server passes a lighter one over Node's parsed request: a
 * `Request` per connection (header validation, an `AbortSignal`) is work a stream never
 * uses.
 */
export interface RequestLike {
  readonly method: string;
  /** Absolute URL; only its path and query are read. */
  readonly url: string;
  readonly headers: { get(name: string): string | null };
}

/**
 * A request `lib` refuses on purpose; `errorResponse` turns it into a JSON error. Recognised
 * by its `status` and `code`, not `instanceof`, so it crosses module graphs.
 */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = "HttpError";
  }
}

/** A JSON error response: `{ "error": { "code", "message" } }`. */
export function jsonError(
  status: number,
  code: string,
  message: string,
  headers: Record<string, string> = {},
): Response {
  return Response.json({ error: { code, message } }, { status, headers });
}

interface CodedError {
  name?: unknown;
  code?: unknown;
  status?: unknown;
  message?: unknown;
  headers?: Record<string, string>;
}

/**
 * Maps the errors `lib` throws on purpose to JSON responses, by their `code`: HttpError as
 * it says, bad input (SseInputError) 400, broker down 503. Anything else is a bug and is
 * rethrown, so the server logs it and answers 500.
 */
export function errorResponse(error: unknown): Response {
  const coded = (error ?? {}) as CodedError;
  const code = typeof coded.code === "string" ? coded.code : undefined;
  const message = typeof coded.message === "string" ? coded.message : "";
  if (code !== undefined && coded.name === "HttpError" && typeof coded.status === "number") {
    countRejected(code);
    return jsonError(coded.status, code, message, coded.headers);
  }
  if (code !== undefined && coded.name === "SseInputError") {
    countRejected(code);
    return jsonError(400, code, message);
  }
  if (isBrokerUnavailable(error)) {
    countRejected("broker_unavailable");
    // The details (Redis errors, script hashes) go to the log, not to the client.
    singleton("broker-error-log", createLogger).warn(error.message);
    const message =
      error.operation === "publish"
        ? "event broker unavailable: the event may or may not have been published; retry with the same id to publish it once"
        : "event broker unavailable: try again shortly";
    return jsonError(503, "broker_unavailable", message, { "Retry-After": retryAfter(5) });
  }
  throw error;
}

export function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Checks `Authorization: Bearer <token>` against the configured token.
 * @throws HttpError 401 without a bearer token, 403 with a wrong one.
 */
export function requireBearer(request: Request, expected: string): void {
  const header = request.headers.get("authorization") ?? "";
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (match === null) {
    throw new HttpError(401, "unauthorized", "send Authorization: Bearer <token>", {
      "WWW-Authenticate": 'Bearer realm="next-sse"',
    });
  }
  if (!sameSecret(match[1], expected)) {
    throw new HttpError(403, "forbidden", "the bearer token is not valid");
  }
}

/** How long a request body may take to arrive (10 s). */
const BODY_TIMEOUT_MS = 10_000;

/**
 * Reads a JSON body of at most `maxBytes` within `timeoutMs` (10 s), without buffering more
 * than that.
 * @throws HttpError 415 for another content type, 413 past the limit, 408 too slow, 400 for
 * bad JSON.
 */
export async function readJsonBody(
  request: Request,
  maxBytes: number,
  timeoutMs = BODY_TIMEOUT_MS,
): Promise<unknown> {
  const type = request.headers.get("content-type") ?? "";
  if (!/^application\/([\w.+-]+\+)?json\b/i.test(type)) {
    throw new HttpError(415, "unsupported_media_type", "send the body as application/json");
  }
  const tooLarge = () =>
    new HttpError(413, "payload_too_large", `the body is over the limit of ${maxBytes} bytes`);
  if (Number(request.headers.get("content-length") ?? 0) > maxBytes) throw tooLarge();
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (request.body) {
    // A client that sends its body a byte a minute must not hold the request for minutes.
    const reader = request.body.getReader();
    const timer = setTimeout(() => {
      reader.cancel().catch(() => {});
    }, timeoutMs);
    const started = Date.now();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        size += value.byteLength;
        if (size > maxBytes) throw tooLarge();
        chunks.push(value);
      }
    } finally {
      clearTimeout(timer);
    }
    if (Date.now() - started >= timeoutMs) {
      throw new HttpError(408, "request_timeout", `send the body within ${timeoutMs / 1000} s`);
    }
  }
  const text = Buffer.concat(chunks).toString("utf8");
  try {
    return JSON.parse(text);
  } catch {
    throw new HttpError(400, "invalid_json", "the body is not valid JSON");
  }
}

/**
 * A `Retry-After` of about `seconds`, with per-client jitter (up to half as long again):
 * clients refused together do not come back together.
 */
export function retryAfter(seconds: number, random: () => number = Math.random): string {
  return String(seconds + Math.floor(random() * (Math.floor(seconds / 2) + 1)));
}
