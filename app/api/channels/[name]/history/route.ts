import { authorizedChannelParam } from "@/lib/access/authorize";
import { parseHistoryQuery, readHistory } from "@/lib/features/history";
import { errorResponse } from "@/lib/http";

/**
 * `GET /api/channels/NAME/history?limit=&before=&after=&order=newest|oldest`: one JSON page
 * of the channel's history with a cursor for the next. Same access rules as the channel.
 */
export async function GET(
  request: Request,
  { params }: { params: Promise<{ name: string }> },
): Promise<Response> {
  try {
    const channel = await authorizedChannelParam(request, params);
    const query = parseHistoryQuery(new URL(request.url).searchParams);
    return Response.json(await readHistory(channel, query), {
      headers: { "Cache-Control": "no-store" },
    });
  } catch (error) {
    return errorResponse(error);
  }
}
