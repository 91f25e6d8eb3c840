import { limitRate } from "@/lib/access/rate-limit";
import { disconnect, parseDisconnectRequest } from "@/lib/access/revocation";
import { getConfig } from "@/lib/config";
import { errorResponse, HttpError, readJsonBody, requireBearer } from "@/lib/http";

/**
 * `POST /api/disconnect` with `Authorization: Bearer $SSE_PUBLISH_TOKEN`: `{ sub }` ends
 * every open stream of that user on every instance and refuses its tokens issued until now;
 * `{ jti }` does the same for one token. Answers the streams ended on this instance.
 */
export async function POST(request: Request): Promise<Response> {
  try {
    const { publishToken, publishMaxBytes, bodyTimeoutMs, publishPerMinute } = getConfig();
    if (publishToken === undefined) {
      throw new HttpError(404, "publish_api_disabled", "set SSE_PUBLISH_TOKEN to turn this on");
    }
    requireBearer(request, publishToken);
    limitRate(request.headers, "publish", publishPerMinute);
    const body = await readJsonBody(request, publishMaxBytes, bodyTimeoutMs);
    return Response.json({ ended: await disconnect(parseDisconnectRequest(body)) });
  } catch (error) {
    return errorResponse(error);
  }
}
