import type { NextRequest } from "next/server";
import { authorize } from "@/lib/server/authorize";
import { getConfig } from "@/lib/server/config";
import { handlePreflight, withCors } from "@/lib/server/cors";
import { openEventStream } from "@/lib/server/event-stream";
import { errorResponse, SSE_HEADERS } from "@/lib/server/http";
import { parseChannels } from "@/lib/sse/channel";

/**
 * `GET /stream?channel=NAME[&channel=…]` (default `sse`): the events of those channels as
 * `text/event-stream`, resuming after `Last-Event-ID` (or `?lastEventId=`) with history.
 * 400 bad channel, 401/403 private channel without a valid token, 503 broker down or full.
 */
export async function GET(request: NextRequest): Promise<Response> {
  try {
    const { maxChannelsPerStream, maxChannelLength } = getConfig();
    const params = request.nextUrl.searchParams;
    const channels = parseChannels(params, maxChannelsPerStream, maxChannelLength);
    await authorize(request, channels);
    const lastEventId = request.headers.get("last-event-id") ?? params.get("lastEventId");
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
    const { maxChannelsPerStream, maxChannelLength } = getConfig();
    const channels = parseChannels(
      request.nextUrl.searchParams,
      maxChannelsPerStream,
      maxChannelLength,
    );
    await authorize(request, channels);
    return withCors(request, new Response(null, { headers: SSE_HEADERS }));
  } catch (error) {
    return withCors(request, errorResponse(error));
  }
}

/** CORS preflight, for origins in SSE_CORS_ORIGINS. */
export function OPTIONS(request: NextRequest): Response {
  return handlePreflight(request, "GET, OPTIONS");
}
