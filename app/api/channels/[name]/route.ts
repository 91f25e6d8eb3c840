import { authorizedChannelParam } from "@/lib/access/authorize";
import { countSubscribers } from "@/lib/features/presence";
import { errorResponse } from "@/lib/http";

/**
 * `GET /api/channels/NAME`: `{ channel, subscribers }`, the streams on that channel across
 * every instance. Private channels need the same token as their streams.
 */
export async function GET(
  request: Request,
  { params }: { params: Promise<{ name: string }> },
): Promise<Response> {
  try {
    const channel = await authorizedChannelParam(request, params);
    const subscribers = await countSubscribers(channel);
    return Response.json({ channel, subscribers }, { headers: { "Cache-Control": "no-store" } });
  } catch (error) {
    return errorResponse(error);
  }
}
