import { healthResponse } from "@/lib/ops/health";

/** `GET /api/health`: 200 when the broker answers, 503 with a JSON reason when it does not. */
export function GET(): Promise<Response> {
  return healthResponse();
}
