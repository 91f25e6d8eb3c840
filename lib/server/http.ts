import "server-only";
import { BrokerUnavailableError } from "@/lib/server/broker/types";
import { SseInputError } from "@/lib/sse/encode";

/** Headers of every SSE response: no caching, no compression, no proxy buffering. */
export const SSE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  "Content-Type": "text/event-stream; charset=utf-8",
  "Cache-Control": "no-cache, no-transform",
  "X-Accel-Buffering": "no",
});

/** A JSON error response: `{ "error": { "code", "message" } }`. */
export function jsonError(
  status: number,
  code: string,
  message: string,
  headers: Record<string, string> = {},
): Response {
  return Response.json({ error: { code, message } }, { status, headers });
}

/**
 * Maps the errors `lib` throws on purpose to JSON responses: bad input 400, broker down 503.
 * Anything else is a bug and is rethrown, so Next.js logs it and answers 500.
 */
export function errorResponse(error: unknown): Response {
  if (error instanceof SseInputError) {
    return jsonError(400, `invalid_${error.field}`, error.message);
  }
  if (error instanceof BrokerUnavailableError) {
    return jsonError(503, "broker_unavailable", `event broker unavailable: ${error.message}`, {
      "Retry-After": "5",
    });
  }
  throw error;
}
