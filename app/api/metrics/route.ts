import { getConfig } from "@/lib/server/config";
import { errorResponse, requireBearer } from "@/lib/server/http";
import { renderMetrics } from "@/lib/server/metrics";

/** `GET /api/metrics`: Prometheus text format; needs `Bearer $SSE_METRICS_TOKEN` when set. */
export async function GET(request: Request): Promise<Response> {
  try {
    const { metricsToken } = getConfig();
    if (metricsToken !== undefined) requireBearer(request, metricsToken);
    const { body, contentType } = await renderMetrics();
    return new Response(body, {
      headers: { "Content-Type": contentType, "Cache-Control": "no-store" },
    });
  } catch (error) {
    return errorResponse(error);
  }
}
