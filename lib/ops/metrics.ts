import "server-only";
import { Counter, Gauge, Registry } from "prom-client";
import { getBroker } from "@/lib/broker";
import { getConfig } from "@/lib/config";
import { errorResponse, requireBearer } from "@/lib/http";
import { brokerCounters, requestCounters, streamCounters } from "@/lib/ops/counters";
import { singleton } from "@/lib/ops/singleton";
import { countOpenStreams, localPresence } from "@/lib/stream/registry";

/** The label all private channels share in `sse_channel_subscribers`. */
const PRIVATE_LABEL = "(private)";

/** A counter whose value is read from a running total when scraped. */
function totalCounter(registry: Registry, name: string, help: string, read: () => number) {
  let reported = 0;
  return new Counter({
    name,
    help,
    registers: [registry],
    collect() {
      const value = read();
      if (value > reported) this.inc(value - reported);
      reported = value;
    },
  });
}

function createRegistry(): Registry {
  const registry = new Registry();
  new Gauge({
    name: "sse_open_streams",
    help: "Streams open in this instance.",
    registers: [registry],
    collect() {
      this.set(countOpenStreams());
    },
  });
  new Gauge({
    name: "sse_channel_subscribers",
    help: `Streams per channel in this instance; private channels are summed as channel="${PRIVATE_LABEL}".`,
    labelNames: ["channel"],
    registers: [registry],
    collect() {
      this.reset();
      const { privatePrefix } = getConfig();
      let hidden = 0;
      for (const [channel, count] of localPresence()) {
        // A private channel's name says who is online (`private-user-42`): never a label.
        if (privatePrefix && channel.startsWith(privatePrefix)) hidden += count;
        else this.set({ channel }, count);
      }
      if (hidden > 0) this.set({ channel: PRIVATE_LABEL }, hidden);
    },
  });
  const counters = streamCounters();
  totalCounter(registry, "sse_streams_opened_total", "Streams opened.", () => counters.opened);
  totalCounter(
    registry,
    "sse_redis_subscription_repairs_total",
    "Redis subscriptions found silent by a probe and subscribed again.",
    () => brokerCounters().subscriptionRepairs,
  );
  totalCounter(
    registry,
    "sse_events_published_total",
    "Events published by this instance.",
    () => requestCounters().published,
  );
  totalCounter(
    registry,
    "sse_events_delivered_total",
    "Events written to streams (one per stream).",
    () => counters.delivered,
  );
  totalCounter(
    registry,
    "sse_events_replayed_total",
    "Events replayed from history on resume.",
    () => counters.replayed,
  );
  totalCounter(
    registry,
    "sse_resets_total",
    "Reset events sent (history could not fill a gap).",
    () => counters.resets,
  );
  totalCounter(
    registry,
    "sse_slow_consumer_drops_total",
    "Streams dropped for not reading.",
    () => counters.slowConsumerDrops,
  );
  totalCounter(
    registry,
    "sse_broker_reconnects_total",
    "Times the broker's subscription came back after a loss.",
    () => requestCounters().brokerRecoveries,
  );
  const reportedRejections = new Map<string, number>();
  new Counter({
    name: "sse_rejected_requests_total",
    help: "Requests refused, by reason.",
    labelNames: ["reason"],
    registers: [registry],
    collect() {
      for (const [reason, value] of requestCounters().rejected) {
        const before = reportedRejections.get(reason) ?? 0;
        if (value > before) this.inc({ reason }, value - before);
        reportedRejections.set(reason, value);
      }
    },
  });
  getBroker().onRecover((phase) => {
    if (phase === "restored") requestCounters().brokerRecoveries++;
  });
  return registry;
}

/** The Prometheus text exposition of this instance's metrics. */
export async function renderMetrics(): Promise<{ body: string; contentType: string }> {
  const registry = singleton("metrics-registry", createRegistry);
  return { body: await registry.metrics(), contentType: registry.contentType };
}

/** `GET /api/metrics`: Prometheus text format; needs `Bearer $SSE_METRICS_TOKEN` when set. */
export async function metricsResponse(request: Request): Promise<Response> {
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
