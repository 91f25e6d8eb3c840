import type { NextRequest } from "next/server";
import { authorizedStreamChannels } from "@/lib/server/authorize";
import { handlePreflight, withCors } from "@/lib/server/cors";
import { openEventStream, readLastEventId } from "@/lib/server/event-stream";
import { errorResponse, SSE_HEADERS } from "@/lib/server/http";

/**
 * `GET /stream?channel=NAME[&channel=…]` (default `sse`): the events of those channels as
 * `text/event-stream`, resuming after `Last-Event-ID` (or `?lastEventId=`) with history.
 * 400 bad channel, 401/403 private channel without a valid token, 503 broker down or full.
 */
export async function GET(request: NextRequest): Promise<Response> {
  try {
    const channels = await authorizedStreamChannels(request);
    const lastEventId = readLastEventId(request);
    const stream = await openEventStream({ channels, lastEventId, signal: request.signal });
    return withCors(request, new Response(stream, { headers: SSE_HEADERS }));
  } catch (error) {
    return withCors(request, errorResponse(error));
  }
}

/**
 * HEAD answers what GET would (400, 401/403, or 200 with the SSE headers) without opening
 * a stream: Next.js would otherwise run GET for HEAD and never read, or cancel, the body.
 */
export async function HEAD(request: NextRequest): Promise<Response> {
  try {
    await authorizedStreamChannels(request);
    return withCors(request, new Response(null, { headers: SSE_HEADERS }));
  } catch (error) {
    return withCors(request, errorResponse(error));
  }
}

/** CORS preflight, for origins in SSE_CORS_ORIGINS. */
export function OPTIONS(request: NextRequest): Response {
  return handlePreflight(request, "GET, OPTIONS");
}
