import { authorizeDemoPublish, refuseCrossSiteSubresource } from "@/components/demo/fences";
import { publish } from "@/lib/features/publish";
import { errorResponse } from "@/lib/http";
import { DEFAULT_CHANNEL } from "@/lib/sse/channel";

/**
 * `GET /hello`: the quickstart's publisher. Sends a `greeting` on channel `sse` when a
 * person opens it in a tab; refuses cross-site subresource requests, SSE_DEMO=off (404) and
 * more than SSE_DEMO_PUBLISH_PER_MINUTE per client (429).
 */
export async function GET(request: Request): Promise<Response> {
  try {
    refuseCrossSiteSubresource(request.headers);
    await authorizeDemoPublish(request.headers, DEFAULT_CHANNEL, [DEFAULT_CHANNEL]);
    await publish({ message: "Hello!" }, { type: "greeting" });
    return new Response("Message sent!", {
      headers: { "Content-Type": "text/plain; charset=utf-8" },
    });
  } catch (error) {
    return errorResponse(error);
  }
}
