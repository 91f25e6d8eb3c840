import { getConfig } from "@/lib/server/config";
import { handlePreflight, withCors } from "@/lib/server/cors";
import { errorResponse, HttpError, readJsonBody, requireBearer } from "@/lib/server/http";
import { publishRequest } from "@/lib/server/publish";
import { limitRate } from "@/lib/server/rate-limit";

/**
 * `POST /api/publish` for other services: `{ channel | channels, data, type?, id?, retry? }`
 * with `Authorization: Bearer $SSE_PUBLISH_TOKEN`. Answers the event ids and receivers.
 */
export async function POST(request: Request): Promise<Response> {
  try {
    const { publishToken, publishMaxBytes, bodyTimeoutMs, publishPerMinute } = getConfig();
    if (publishToken === undefined) {
      throw new HttpError(
        404,
        "publish_api_disabled",
        "set SSE_PUBLISH_TOKEN to turn on the publish API",
      );
    }
    requireBearer(request, publishToken);
    limitRate(request.headers, "publish", publishPerMinute);
    const body = await readJsonBody(request, publishMaxBytes, bodyTimeoutMs);
    return withCors(request, Response.json(await publishRequest(body)));
  } catch (error) {
    return withCors(request, errorResponse(error));
  }
}

/** CORS preflight, for origins in SSE_CORS_ORIGINS. */
export function OPTIONS(request: Request): Response {
  return handlePreflight(request, "POST, OPTIONS");
}
