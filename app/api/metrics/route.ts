import { metricsResponse } from "@/lib/ops/metrics";

/** `GET /api/metrics`: Prometheus text format; needs `Bearer $SSE_METRICS_TOKEN` when set. */
export function GET(request: Request): Promise<Response> {
  return metricsResponse(request);
}
