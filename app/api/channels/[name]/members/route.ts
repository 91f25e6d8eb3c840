import { authorizedChannelParam } from "@/lib/access/authorize";
import { listMembers } from "@/lib/features/members";
import { errorResponse } from "@/lib/http";

/**
 * `GET /api/channels/NAME/members`: `{ channel, members: [{ sub, info? }] }`, the users
 * (token `sub`s) holding streams on a private channel across every instance, each once.
 * Same token rules as the channel's streams; 400 for a public channel.
 */
export async function GET(
  request: Request,
  { params }: { params: Promise<{ name: string }> },
): Promise<Response> {
  try {
    const channel = await authorizedChannelParam(request, params);
    const members = await listMembers(channel);
    return Response.json({ channel, members }, { headers: { "Cache-Control": "no-store" } });
  } catch (error) {
    return errorResponse(error);
  }
}
