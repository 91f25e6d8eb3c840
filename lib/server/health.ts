import "server-only";
import { getBroker } from "@/lib/server/broker";
import { countOpenStreams, streamCounters } from "@/lib/server/stream-registry";

/** What `GET /api/health` reports. */
export interface HealthReport {
  status: "ok" | "unavailable";
  broker: "redis" | "memory";
  /** Streams open in this process. */
  streams: number;
  /** Broker listeners in this process (one per stream and channel). */
  listeners: number;
  /** Streams dropped because their client stopped reading (over SSE_MAX_BACKLOG_BYTES). */
  slowConsumerDrops: number;
  reason?: string;
}

/** Checks that the broker answers; for load balancers and the leak tests. */
export async function checkHealth(): Promise<HealthReport> {
  const broker = getBroker();
  const reachable = await broker.ping();
  return {
    status: reachable ? "ok" : "unavailable",
    broker: broker.kind,
    streams: countOpenStreams(),
    listeners: broker.listenerCount(),
    slowConsumerDrops: streamCounters().slowConsumerDrops,
    ...(reachable ? {} : { reason: "the broker (Redis) does not answer" }),
  };
}

/** `GET /api/health`: 200 when the broker answers, 503 with a JSON reason when it does not. */
export async function healthResponse(): Promise<Response> {
  const report = await checkHealth();
  return Response.json(report, {
    status: report.status === "ok" ? 200 : 503,
    headers: { "Cache-Control": "no-store" },
  });
}
