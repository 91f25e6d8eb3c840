// `npm run bench`: fan-out speed and memory of next-sse on `npm start` (or, with
// --server next, `next start` and its route handler). Loopback only, bounded in count and
// time. Prints a table and one JSON line (NEXT_SSE_BENCH {...}).
// Options: --connections N (1000) --messages M (200) --rate R msg/s (50; 0 = as fast as
// possible) --channels C (1) --size BYTES (payload padding, 0) --via redis|api (redis)
// --server npm|next (npm) --max-seconds S (120) --rewind N (0: streams ask for ?rewind=N, and
// each channel gets N events of history first) --fast-path on|off (on: npm start's
// SSE_FAST_PATH). REDIS_URL uses that Redis instead of a private one.
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { Redis } from "ioredis";
import { RedisBroker } from "@/lib/broker/redis";
import { TEST_PUBLISH_TOKEN } from "@/tests/support/env";
import { ensureBuilt, startAppServer, startNextServer } from "@/tests/support/next-server";
import { startRedisServer } from "@/tests/support/redis-server";
import { BenchSubscriber, type Delivery } from "./client";

const { values } = parseArgs({
  options: {
    connections: { type: "string", default: "1000" },
    messages: { type: "string", default: "200" },
    rate: { type: "string", default: "50" },
    channels: { type: "string", default: "1" },
    size: { type: "string", default: "0" },
    via: { type: "string", default: "redis" },
    server: { type: "string", default: "npm" },
    "max-seconds": { type: "string", default: "120" },
    rewind: { type: "string", default: "0" },
    "fast-path": { type: "string", default: "on" },
  },
});
const N = Number(values.connections);
const M = Number(values.messages);
const RATE = Number(values.rate);
const CHANNELS = Number(values.channels);
const SIZE = Number(values.size);
const REWIND = Number(values.rewind);
const VIA = values.via === "api" ? "api" : "redis";
const SERVER = values.server === "next" ? "next" : "npm";
const MAX_MS = Number(values["max-seconds"]) * 1000;
const FAST_PATH = values["fast-path"] === "off" ? "off" : "on";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** VmRSS (kB) and CPU seconds (user + system, and system alone) of a process. */
function processStats(pid: number): { rssKb: number; cpuS: number; sysS: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const cpuS = (Number(fields[11]) + Number(fields[12])) / 100;
  return { rssKb, cpuS, sysS: Number(fields[12]) / 100 };
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

const round = (n: number, digits = 1) => Number(n.toFixed(digits));

async function main(): Promise<void> {
  const deadline = Date.now() + MAX_MS;
  await ensureBuilt();
  const ownRedis = process.env.REDIS_URL ? undefined : await startRedisServer();
  const redisUrl = process.env.REDIS_URL ?? ownRedis?.url ?? "";
  const settings = {
    SSE_REDIS_URL: redisUrl,
    // Every client here is 127.0.0.1: no per-client stream limit (SSE_MAX_STREAMS_PER_CLIENT).
    SSE_MAX_STREAMS_PER_CLIENT: "0",
    SSE_PUBLISH_PER_MINUTE: "0",
    SSE_PUBLISH_TOKEN: TEST_PUBLISH_TOKEN,
    SSE_HEARTBEAT_MS: "0",
    SSE_FAST_PATH: FAST_PATH,
  };
  // The bench opens many streams from one address: no per-client limit applies here.
  const server =
    SERVER === "next" ? await startNextServer(settings) : await startAppServer(settings);
  const admin = new Redis(redisUrl);
  const broker = new RedisBroker({ url: redisUrl });
  const subscribers: BenchSubscriber[] = [];
  try {
    await sleep(500);
    const idle = processStats(server.pid);
    const clientsBefore = Number(/connected_clients:(\d+)/.exec(await admin.info("clients"))?.[1]);

    // Connect.
    const latencies = new Float64Array(N * M);
    let delivered = 0;
    let lastReceive = 0;
    let ready = 0;
    const onDelivery = (d: Delivery) => {
      latencies[delivered++] = d.latencyMs;
      lastReceive = performance.now();
    };
    if (REWIND > 0) {
      for (let c = 0; c < CHANNELS; c++) {
        for (let i = 0; i < REWIND; i++)
          await broker.publish(`bench-${c}`, { body: "data: past\n" });
      }
    }
    // Redis commands the connects cost (INFO commandstats, from zero).
    await admin.config("RESETSTAT");
    const connectStart = performance.now();
    let allReady: () => void = () => {};
    const readyPromise = new Promise<void>((resolve) => {
      allReady = resolve;
    });
    const port = Number(new URL(server.url).port);
    for (let i = 0; i < N; i++) {
      const subscriber = new BenchSubscriber(onDelivery, () => {
        if (++ready === N) allReady();
      });
      subscribers.push(subscriber);
      const rewind = REWIND > 0 ? `&rewind=${REWIND}` : "";
      await subscriber.open("127.0.0.1", port, `/stream?channel=bench-${i % CHANNELS}${rewind}`);
    }
    await Promise.race([readyPromise, sleep(Math.max(0, deadline - Date.now()))]);
    const connectMs = performance.now() - connectStart;
    await sleep(300);
    const atReady = processStats(server.pid);
    const clientsReady = Number(/connected_clients:(\d+)/.exec(await admin.info("clients"))?.[1]);
    const connectCommands = [
      ...(await admin.info("commandstats")).matchAll(/cmdstat_(\w+):calls=(\d+)/g),
    ]
      .map(([, name, calls]) => [name, Number(calls)] as const)
      .filter(([name]) => name !== "info" && name !== "config");

    // Publish M messages at RATE, round-robin over the channels.
    const padding = "x".repeat(SIZE);
    const publishStart = performance.now();
    const { cpuS: cpuBefore, sysS: sysBefore } = processStats(server.pid);
    let publishErrors = 0;
    const inFlight = new Set<Promise<unknown>>();
    for (let seq = 0; seq < M && Date.now() < deadline; seq++) {
      const channel = `bench-${seq % CHANNELS}`;
      const data = `bench:${seq}:${performance.now()}|${padding}`;
      const send =
        VIA === "redis"
          ? broker.publish(channel, { body: `data: ${data}\n` })
          : fetch(`${server.url}/api/publish`, {
              method: "POST",
              headers: {
                "Content-Type": "application/json",
                Authorization: `Bearer ${TEST_PUBLISH_TOKEN}`,
              },
              body: JSON.stringify({ channel, data }),
            }).then((r) => r.arrayBuffer());
      const tracked = send.catch(() => publishErrors++).finally(() => inFlight.delete(tracked));
      inFlight.add(tracked);
      if (inFlight.size >= 64) await Promise.race(inFlight);
      if (RATE > 0) {
        const due = publishStart + ((seq + 1) * 1000) / RATE;
        await sleep(Math.max(0, due - performance.now()));
      }
    }
    await Promise.all(inFlight);
    const expected = (N / CHANNELS) * M;
    // Drain: until everything arrived, or nothing new for 3 s.
    let lastCount = -1;
    let stillSince = performance.now();
    while (delivered < expected && Date.now() < deadline) {
      await sleep(50);
      if (delivered !== lastCount) {
        lastCount = delivered;
        stillSince = performance.now();
      } else if (performance.now() - stillSince > 3000) break;
    }
    const atEnd = processStats(server.pid);
    const measuredS = (Math.max(lastReceive, publishStart) - publishStart) / 1000;
    const sorted = latencies.slice(0, delivered).sort();
    const duplicates = subscribers.reduce((sum, s) => sum + s.duplicates, 0);
    const closedEarly = subscribers.filter((s) => s.closedEarly).length;
    const result = {
      params: {
        rewind: REWIND,
        server: SERVER,
        connections: N,
        messages: M,
        rate: RATE,
        channels: CHANNELS,
        size: SIZE,
        via: VIA,
        fast_path: FAST_PATH,
      },
      connect: {
        ready: ready,
        ready_all_ms: round(connectMs),
        cpu_s: round(atReady.cpuS - idle.cpuS, 2),
        cpu_us_per_stream: Math.round(((atReady.cpuS - idle.cpuS) * 1e6) / Math.max(1, ready)),
      },
      delivery: {
        expected,
        delivered,
        lost: expected - delivered,
        duplicates,
        closed_early: closedEarly,
        events_per_s: Math.round(delivered / Math.max(measuredS, 0.001)),
        publish_errors: publishErrors,
      },
      latency_ms: {
        p50: round(percentile(sorted, 50)),
        p90: round(percentile(sorted, 90)),
        p99: round(percentile(sorted, 99)),
        max: round(sorted[sorted.length - 1] ?? Number.NaN),
      },
      server: {
        rss_idle_kb: idle.rssKb,
        rss_ready_kb: atReady.rssKb,
        rss_end_kb: atEnd.rssKb,
        rss_per_stream_kb: round((atReady.rssKb - idle.rssKb) / N),
        cpu_s: round(atEnd.cpuS - cpuBefore, 2),
        cpu_kernel_s: round(atEnd.sysS - sysBefore, 2),
        cpu_pct_of_core: round((100 * (atEnd.cpuS - cpuBefore)) / Math.max(measuredS, 0.001)),
      },
      redis: {
        connected_clients_before: clientsBefore,
        connected_clients_ready: clientsReady,
        commands_during_connect: Object.fromEntries(connectCommands),
      },
    };
    const commandTotal = connectCommands.reduce((sum, [, calls]) => sum + calls, 0);
    const rows: Array<[string, string]> = [
      [
        "streams / messages / rate",
        `${N} / ${M} / ${RATE || "max"} msg/s via ${VIA}, served by ${SERVER === "next" ? "next start (route handler)" : `npm start (fast path ${FAST_PATH})`}`,
      ],
      ["ready (all streams)", `${result.connect.ready}/${N} in ${result.connect.ready_all_ms} ms`],
      [
        "server CPU while connecting",
        `${result.connect.cpu_s} s (${result.connect.cpu_us_per_stream} µs per stream)`,
      ],
      ["delivered / expected", `${delivered} / ${expected}`],
      [
        "lost / duplicates / closed early",
        `${result.delivery.lost} / ${duplicates} / ${closedEarly}`,
      ],
      ["deliveries/s", String(result.delivery.events_per_s)],
      ["latency p50/p90/p99/max ms", Object.values(result.latency_ms).join(" / ")],
      ["server RSS idle/ready/end kB", `${idle.rssKb} / ${atReady.rssKb} / ${atEnd.rssKb}`],
      ["RSS per open stream", `${result.server.rss_per_stream_kb} kB`],
      [
        "server CPU (publish phase)",
        `${result.server.cpu_s} s (${result.server.cpu_kernel_s} s in the kernel) = ${result.server.cpu_pct_of_core}% of a core`,
      ],
      [
        "Redis commands while connecting",
        `${commandTotal} (${round(commandTotal / N, 2)} per stream): ${connectCommands.map(([n, c]) => `${n} ${c}`).join(", ")}`,
      ],
      [
        "Redis connections of the app",
        `${clientsReady - clientsBefore} with ${N} streams open (connected_clients ${clientsBefore} -> ${clientsReady})`,
      ],
    ];
    for (const [label, value] of rows) console.log(`${label.padEnd(34)} ${value}`);
    console.log(`NEXT_SSE_BENCH ${JSON.stringify(result)}`);
  } finally {
    for (const s of subscribers) s.close();
    await broker.close();
    admin.disconnect();
    await server.stop();
    await ownRedis?.stop();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
