import type { NextRequest } from "next/server";
import { getConfig } from "@/lib/server/config";
import { openEventStream } from "@/lib/server/event-stream";
import { errorResponse, SSE_HEADERS } from "@/lib/server/http";
import { parseChannels } from "@/lib/sse/channel";

/**
 * `GET /stream?channel=NAME[&channel=…]` (default `sse`): the events of those channels as
 * `text/event-stream`, resuming after `Last-Event-ID` (or `?lastEventId=`) with history.
 * 400 for an invalid channel, 503 when the broker cannot subscribe.
 */
export async function GET(request: NextRequest): Promise<Response> {
  try {
    const params = request.nextUrl.searchParams;
    const channels = parseChannels(params, getConfig().maxChannelsPerStream);
    const lastEventId = request.headers.get("last-event-id") ?? params.get("lastEventId");
    const stream = await openEventStream({ channels, lastEventId, signal: request.signal });
    return new Response(stream, { headers: SSE_HEADERS });
  } catch (error) {
    return errorResponse(error);
  }
}
