import { handleStreamRequest } from "@/lib/stream/handle-request";
import { toWebResponse } from "@/lib/transport/sinks";

/**
 * `GET /stream?channel=NAME[&channel=…]` (default `sse`) as a route handler: what `next
 * start`, `next dev` and platforms that run only route handlers (Vercel) serve. Under `npm
 * start` the production server answers `/stream` itself, straight to the socket; both call
 * the same `handleStreamRequest`. HEAD and OPTIONS (CORS preflight) are decided there too.
 */
export async function GET(request: Request): Promise<Response> {
  return toWebResponse(await handleStreamRequest(request, request.signal));
}

export { GET as HEAD, GET as OPTIONS };

/**
 * Seconds a platform may keep this function running (Vercel reads it). With `VERCEL` set,
 * SSE_MAX_STREAM_SECONDS defaults a little under it (see config.ts), so streams end cleanly
 * with `retry: 0` and resume instead of being cut.
 */
export const maxDuration = 300;
