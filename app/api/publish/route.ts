import { authorizePublisher } from "@/lib/access/authorize";
import { handlePreflight, withCors } from "@/lib/access/cors";
import { limitRate } from "@/lib/access/rate-limit";
import { getConfig } from "@/lib/config";
import { publishRequest } from "@/lib/features/publish";
import { errorResponse, readJsonBody } from "@/lib/http";

/**
 * `POST /api/publish`: `{ channel | channels, data, type?, id?, retry? }` with
 * `Authorization: Bearer $SSE_PUBLISH_TOKEN` (other services: any channel), or a channel
 * token whose `publish` claim names the channels. Answers the event ids and receivers.
 */
export async function POST(request: Request): Promise<Response> {
  try {
    const { publishMaxBytes, bodyTimeoutMs, publishPerMinute } = getConfig();
    const allow = await authorizePublisher(request);
    limitRate(request.headers, "publish", publishPerMinute);
    const body = await readJsonBody(request, publishMaxBytes, bodyTimeoutMs);
    return withCors(request, Response.json(await publishRequest(body, allow, "api")));
  } catch (error) {
    return withCors(request, errorResponse(error));
  }
}

/** CORS preflight, for origins in SSE_CORS_ORIGINS. */
export function OPTIONS(request: Request): Response {
  return handlePreflight(request, "POST, OPTIONS");
}
