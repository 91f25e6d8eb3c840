// `npm run bench`: fan-out speed and memory of next-sse on `npm start` (or, with
// --server next, `next start` and its route handler). Loopback only, bounded in count and
// time. Prints a table and one JSON line (NEXT_SSE_BENCH {...}).
// Options: --connections N (1000) --messages M (200) --rate R msg/s (50; 0 = as fast as
// possible) --channels C (1) --size BYTES (payload padding, 0) --via redis|api (redis)
// --server npm|next (npm) --max-seconds S (120) --rewind N (0: streams ask for ?rewind=N, and
// each channel gets N events of history first) --fast-path on|off (on: npm start's
// SSE_FAST_PATH). REDIS_URL uses that Redis instead of a private one.
import { parseArgs } from "node:util";
import { Redis } from "ioredis";
import { RedisBroker } from "@/lib/broker/redis";
import { TEST_PUBLISH_TOKEN } from "@/tests/support/env";
import { ensureBuilt } from "@/tests/support/next-server";
import { startRedisServer } from "@/tests/support/redis-server";
import { measureFanout, startBenchServer } from "./fanout";

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
  const { server, heapAfterGc, stop } = await startBenchServer(SERVER, settings);
  const admin = new Redis(redisUrl);
  const broker = new RedisBroker({ url: redisUrl });
  const clients = async () =>
    Number(/connected_clients:(\d+)/.exec(await admin.info("clients"))?.[1]);
  try {
    let clientsBefore = 0;
    let clientsReady = 0;
    let connectCommands: Array<readonly [string, number]> = [];
    if (REWIND > 0) {
      for (let c = 0; c < CHANNELS; c++) {
        for (let i = 0; i < REWIND; i++)
          await broker.publish(`bench-${c}`, { body: "data: past\n" });
      }
    }
    const rewind = REWIND > 0 ? `&rewind=${REWIND}` : "";
    const measured = await measureFanout(
      {
        port: Number(new URL(server.url).port),
        pid: server.pid,
        heapAfterGc,
        path: (i) => `/stream?channel=bench-${i % CHANNELS}${rewind}`,
        publish: (seq, data) => {
          const channel = `bench-${seq % CHANNELS}`;
          return VIA === "redis"
            ? broker.publish(channel, { body: `data: ${data}\n` })
            : fetch(`${server.url}/api/publish`, {
                method: "POST",
                headers: {
                  "Content-Type": "application/json",
                  Authorization: `Bearer ${TEST_PUBLISH_TOKEN}`,
                },
                body: JSON.stringify({ channel, data }),
              }).then((r) => r.arrayBuffer());
        },
      },
      {
        connections: N,
        messages: M,
        rate: RATE,
        channels: CHANNELS,
        size: SIZE,
        deadline,
        beforeConnect: async () => {
          clientsBefore = await clients();
          // Redis commands the connects cost (INFO commandstats, from zero).
          await admin.config("RESETSTAT");
        },
        atReady: async () => {
          clientsReady = await clients();
          connectCommands = [
            ...(await admin.info("commandstats")).matchAll(/cmdstat_(\w+):calls=(\d+)/g),
          ]
            .map(([, name, calls]) => [name, Number(calls)] as const)
            .filter(([name]) => name !== "info" && name !== "config");
        },
      },
    );
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
      ...measured,
      redis: {
        connected_clients_before: clientsBefore,
        connected_clients_ready: clientsReady,
        commands_during_connect: Object.fromEntries(connectCommands),
      },
    };
    const { delivery, server: stats } = result;
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
      ["delivered / expected", `${delivery.delivered} / ${delivery.expected}`],
      [
        "lost / duplicates / closed early",
        `${delivery.lost} / ${delivery.duplicates} / ${delivery.closed_early}`,
      ],
      ["deliveries/s", String(result.delivery.events_per_s)],
      ["latency p50/p90/p99/max ms", Object.values(result.latency_ms).join(" / ")],
      [
        "server RSS idle/ready/end kB",
        `${stats.rss_idle_kb} / ${stats.rss_ready_kb} / ${stats.rss_end_kb}`,
      ],
      [
        "memory per open stream",
        `${stats.heap_per_stream_kb} kB of live heap (after a full collection), ${stats.rss_per_stream_kb} kB of RSS`,
      ],
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
    await broker.close();
    admin.disconnect();
    await stop();
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
