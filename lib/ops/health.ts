import "server-only";
import { getBroker } from "@/lib/broker";
import { brokerCounters, streamCounters } from "@/lib/ops/counters";
import { countOpenStreams, countStreamsBySink, isDraining } from "@/lib/stream/registry";

/** What `GET /api/health` reports. */
export interface HealthReport {
  /** `draining` while the server shuts down: load balancers stop sending it traffic. */
  status: "ok" | "unavailable" | "draining";
  broker: "redis" | "memory";
  /** Streams open in this process. */
  streams: number;
  /** Of those, how many each path writes: the Node server's sink, or a route handler's. */
  sinks: { node: number; web: number };
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
  const draining = isDraining();
  return {
    status: draining ? "draining" : reachable ? "ok" : "unavailable",
    broker: broker.kind,
    streams: countOpenStreams(),
    sinks: { ...countStreamsBySink() },
    listeners: brokerCounters().listeners,
    slowConsumerDrops: streamCounters().slowConsumerDrops,
    ...(draining
      ? { reason: "the server is shutting down" }
      : reachable
        ? {}
        : { reason: "the broker (Redis) does not answer" }),
  };
}

/**
 * `GET /api/health`: 200 when the broker answers, 503 with a JSON reason when it does not
 * or while the server drains.
 */
export async function healthResponse(): Promise<Response> {
  const report = await checkHealth();
  return Response.json(report, {
    status: report.status === "ok" ? 200 : 503,
    headers: { "Cache-Control": "no-store" },
  });
}
