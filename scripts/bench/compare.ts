// `npm run bench:compare`: one sitting, the same fan-out loads against `npm start`,
// `next start` (its route handler) and, when it is installed, nginx with the nchan module
// (`scripts/bench/nchan.conf`; Debian: apt-get install nginx-light libnginx-mod-nchan).
// Runs alternate between the servers; each figure is the median of --runs (the range in
// brackets). Loopback only, bounded in time. Prints a table and one JSON line.
// Options: --loads "1000x300@50,1000x30@5,5000x20@5,1000x3000@0" (streams x messages @
// msg/s, 0 = as fast as possible) --runs R (3) --servers npm,next,nchan --max-minutes (30)
// --baseline DIR (also `npm start` of another built checkout, e.g. a `git worktree` of the
// last release: did a change make it slower?)
import { existsSync, readFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { RedisBroker } from "@/lib/broker/redis";
import { ensureBuilt } from "@/tests/support/next-server";
import { nginxBin, startNginxWith } from "@/tests/support/nginx";
import { startRedisServer } from "@/tests/support/redis-server";
import { type FanoutResult, type FanoutTarget, measureFanout, startBenchServer } from "./fanout";

const { values } = parseArgs({
  options: {
    loads: { type: "string", default: "1000x300@50,1000x30@5,5000x20@5,1000x3000@0" },
    runs: { type: "string", default: "3" },
    servers: { type: "string", default: "npm,next,nchan" },
    "max-minutes": { type: "string", default: "30" },
    baseline: { type: "string" },
  },
});
const RUNS = Number(values.runs);
const DEADLINE = Date.now() + Number(values["max-minutes"]) * 60_000;
const NCHAN_MODULE = "/usr/lib/nginx/modules/ngx_nchan_module.so";

interface Load {
  label: string;
  connections: number;
  messages: number;
  rate: number;
}

const loads: Load[] = (values.loads ?? "").split(",").map((spec) => {
  const match = /^(\d+)x(\d+)@(\d+)$/.exec(spec.trim());
  if (match === null) throw new Error(`--loads: "${spec}" is not STREAMSxMESSAGES@RATE`);
  const [connections, messages, rate] = match.slice(1).map(Number);
  return { label: spec.trim(), connections, messages, rate };
});

interface Server {
  name: string;
  target: FanoutTarget;
  stop(): Promise<unknown>;
}

/** nginx + nchan with the shipped config, or why it cannot run here. */
async function startNchan(): Promise<Server | string> {
  if (!existsSync(NCHAN_MODULE)) {
    return `nchan is not installed (${NCHAN_MODULE}): apt-get install nginx-light libnginx-mod-nchan`;
  }
  const template = readFileSync(join(__dirname, "nchan.conf"), "utf8");
  const nginx = await startNginxWith((dir, port) =>
    template
      .replaceAll("__MODULE__", NCHAN_MODULE)
      .replaceAll("__DIR__", dir)
      .replaceAll("__PORT__", String(port))
      .replaceAll("__USER__", process.getuid?.() === 0 ? "user root;" : ""),
  );
  return {
    name: "nginx + nchan",
    target: {
      port: Number(new URL(nginx.url).port),
      pid: nginx.pid,
      path: () => "/sub",
      publish: (_seq, data) =>
        fetch(`${nginx.url}/pub`, { method: "POST", body: data }).then((r) => r.arrayBuffer()),
    },
    stop: () => nginx.stop(),
  };
}

async function startNextSse(
  kind: "npm" | "next",
  redisUrl: string,
  baseline?: string,
): Promise<Server> {
  const settings = {
    SSE_REDIS_URL: redisUrl,
    // Every stream here comes from 127.0.0.1: no per-client limit.
    SSE_MAX_STREAMS_PER_CLIENT: "0",
    SSE_HEARTBEAT_MS: "0",
  };
  const script = baseline === undefined ? undefined : join(baseline, "dist", "server.js");
  const { server, heapAfterGc, stop } = await startBenchServer(kind, settings, script);
  const broker = new RedisBroker({ url: redisUrl });
  const channel = `bench-${kind}${baseline === undefined ? "" : "-baseline"}`;
  return {
    name:
      kind === "next"
        ? "next start (route handler)"
        : baseline === undefined
          ? "npm start"
          : `npm start of ${baseline}`,
    target: {
      port: Number(new URL(server.url).port),
      pid: server.pid,
      path: () => `/stream?channel=${channel}`,
      // Through Redis, as the app's own publish does (the same script).
      publish: (_seq, data) => broker.publish(channel, { body: `data: ${data}\n` }),
      heapAfterGc,
    },
    stop: async () => {
      await broker.close();
      await stop();
    },
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const figure = (xs: number[], digits = 1) => {
  const sorted = [...xs].sort((a, b) => a - b);
  const show = (n: number) => (Math.abs(n) >= 10_000 ? n.toExponential(2) : n.toFixed(digits));
  return sorted.length > 1
    ? `${show(median(xs))} (${show(sorted[0])}-${show(sorted.at(-1) ?? 0)})`
    : show(sorted[0]);
};

async function main(): Promise<void> {
  await ensureBuilt();
  const redis = await startRedisServer();
  const wanted = (values.servers ?? "").split(",");
  const servers: Server[] = [];
  const skipped: string[] = [];
  try {
    if (wanted.includes("npm")) servers.push(await startNextSse("npm", redis.url));
    if (values.baseline !== undefined) {
      servers.push(await startNextSse("npm", redis.url, values.baseline));
    }
    if (wanted.includes("next")) servers.push(await startNextSse("next", redis.url));
    if (wanted.includes("nchan")) {
      const nchan = await startNchan();
      if (typeof nchan === "string") skipped.push(nchan);
      else servers.push(nchan);
    }
    const results = new Map<string, FanoutResult[]>();
    const run = (server: Server, load: Load) =>
      measureFanout(server.target, { ...load, channels: 1, size: 0, deadline: DEADLINE });
    // Each server warmed once (its first streams cost more than the rest: code loading, JIT).
    for (const server of servers) await run(server, { ...loads[0], messages: 20, label: "warm" });
    for (const load of loads) {
      for (let r = 0; r < RUNS && Date.now() < DEADLINE; r++) {
        for (const server of servers) {
          console.error(`${load.label} run ${r + 1}/${RUNS}: ${server.name}`);
          const key = `${load.label}\t${server.name}`;
          results.set(key, [...(results.get(key) ?? []), await run(server, load)]);
        }
      }
    }
    report(servers, results, skipped);
  } finally {
    for (const server of servers) await server.stop().catch(() => {});
    await redis.stop();
  }
}

function report(servers: Server[], results: Map<string, FanoutResult[]>, skipped: string[]) {
  const nginx = existsSync(nginxBin()) ? "nginx with nchan" : "no nginx";
  console.log(
    `machine: ${cpus().length} x ${cpus()[0]?.model ?? "?"}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}; ${nginx}`,
  );
  for (const line of skipped) console.log(`skipped: ${line}`);
  const rows: Array<Record<string, string>> = [];
  for (const load of loads) {
    for (const server of servers) {
      const runs = results.get(`${load.label}\t${server.name}`) ?? [];
      if (runs.length === 0) continue;
      rows.push({
        load: `${load.connections} streams, ${load.messages} msgs @ ${load.rate || "max"}/s`,
        server: server.name,
        "ready ms": figure(
          runs.map((x) => x.connect.ready_all_ms),
          0,
        ),
        "p50 ms": figure(runs.map((x) => x.latency_ms.p50)),
        "p99 ms": figure(runs.map((x) => x.latency_ms.p99)),
        "deliveries/s": figure(
          runs.map((x) => x.delivery.events_per_s),
          0,
        ),
        // Node: live heap after a full collection; nchan (C): RSS.
        "kB/stream": figure(
          runs.map((x) => x.server.heap_per_stream_kb ?? x.server.rss_per_stream_kb),
        ),
        "lost/dup": `${runs.reduce((s, x) => s + x.delivery.lost, 0)}/${runs.reduce((s, x) => s + x.delivery.duplicates, 0)}`,
      });
    }
  }
  console.table(rows);
  console.log(`NEXT_SSE_COMPARE ${JSON.stringify(Object.fromEntries(results))}`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
