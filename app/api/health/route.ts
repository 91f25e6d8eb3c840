import { checkHealth } from "@/lib/server/health";

/** `GET /api/health`: 200 when the broker answers, 503 with a JSON reason when it does not. */
export async function GET(): Promise<Response> {
  const report = await checkHealth();
  return Response.json(report, {
    status: report.status === "ok" ? 200 : 503,
    headers: { "Cache-Control": "no-store" },
  });
}
