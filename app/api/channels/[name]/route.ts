import { authorize } from "@/lib/server/authorize";
import { getConfig } from "@/lib/server/config";
import { errorResponse } from "@/lib/server/http";
import { countSubscribers } from "@/lib/server/presence";
import { assertChannel } from "@/lib/sse/channel";

/**
 * `GET /api/channels/NAME`: `{ channel, subscribers }`, the streams on that channel across
 * every instance. Private channels need the same token as their streams.
 */
export async function GET(
  request: Request,
  { params }: { params: Promise<{ name: string }> },
): Promise<Response> {
  try {
    const channel = assertChannel((await params).name, getConfig().maxChannelLength);
    await authorize(request, [channel]);
    const subscribers = await countSubscribers(channel);
    return Response.json({ channel, subscribers }, { headers: { "Cache-Control": "no-store" } });
  } catch (error) {
    return errorResponse(error);
  }
}
