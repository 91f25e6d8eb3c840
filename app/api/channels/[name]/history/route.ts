import { authorize } from "@/lib/server/authorize";
import { getConfig } from "@/lib/server/config";
import { parseHistoryQuery, readHistory } from "@/lib/server/history";
import { errorResponse } from "@/lib/server/http";
import { assertChannel } from "@/lib/sse/channel";

/**
 * `GET /api/channels/NAME/history?limit=&before=&after=&order=newest|oldest`: one JSON page
 * of the channel's history with a cursor for the next. Same access rules as the channel.
 */
export async function GET(
  request: Request,
  { params }: { params: Promise<{ name: string }> },
): Promise<Response> {
  try {
    const channel = assertChannel((await params).name, getConfig().maxChannelLength);
    await authorize(request, [channel]);
    const query = parseHistoryQuery(new URL(request.url).searchParams);
    const page = await readHistory(channel, query);
    return Response.json(page, { headers: { "Cache-Control": "no-store" } });
  } catch (error) {
    return errorResponse(error);
  }
}
