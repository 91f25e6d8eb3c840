import { readFileSync } from "node:fs";
import { expect, test } from "@playwright/test";
import { Redis } from "ioredis";
import { publishViaApi, TEST_PUBLISH_TOKEN } from "../support/env";
import { startAppServer, type TestServer } from "../support/next-server";
import { startNginx } from "../support/nginx";
import { getFreePort } from "../support/ports";
import { startRedisServer } from "../support/redis-server";
import {
  type FleetLog,
  peakPerSecond,
  ResumingSubscriber,
  spread,
} from "../support/resuming-subscriber";

// A deploy as operators run one: three `npm start` instances on one Redis behind nginx with
// the config the project ships, restarted one after another (each new one started before
// the next old one gets SIGTERM) while STREAMS subscribers follow 100 channels and a service
// publishes 20 events a second through the proxy. ROLLING_STREAMS=10000 for the full size
// (the open-file limit here is 20,000 per process: past 6,000 run it alone).
test.describe.configure({ mode: "serial" });

const STREAMS = Number(process.env.ROLLING_STREAMS ?? 2000);
const CHANNELS = 100;
const RATE = 20;

/** CPU seconds a process has used (user + system), from /proc. */
function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

async function commandCalls(admin: Redis): Promise<number> {
  const info = (await admin.info("commandstats")) as string;
  return [...info.matchAll(/calls=(\d+)/g)].reduce((sum, m) => sum + Number(m[1]), 0);
}

async function rollingRestart(spreadMs: number) {
  const redis = await startRedisServer();
  const admin = new Redis(redis.url);
  const env = {
    SSE_REDIS_URL: redis.url,
    SSE_PUBLISH_TOKEN: TEST_PUBLISH_TOKEN,
    SSE_TRUST_PROXY: "1",
    SSE_MAX_STREAMS_PER_CLIENT: "0",
    SSE_PUBLISH_PER_MINUTE: "0",
    SSE_DRAIN_SPREAD_MS: String(spreadMs),
    SSE_SHUTDOWN_TIMEOUT_MS: "8000",
  };
  const ports = await Promise.all([getFreePort(), getFreePort(), getFreePort(), getFreePort()]);
  const servers: TestServer[] = await Promise.all(
    ports.slice(0, 3).map((port) => startAppServer(env, { port })),
  );
  // The fourth port is where each new instance starts before an old one stops.
  // Each stream holds two of nginx's connections (client and upstream), and a reconnect
  // storm briefly more: room for all, in workers within the open-file limit.
  const workers = Math.ceil((STREAMS * 3) / 15_000);
  const nginx = await startNginx(ports, {
    workers,
    workerConnections: Math.ceil((STREAMS * 3) / workers) + 1024,
  });
  const { hostname, port } = new URL(nginx.url);
  const log: FleetLog = { connects: [], refusals: [], resumeMs: [], slow: [] };
  const run = Date.now().toString(36);
  const channelOf = (i: number) => `roll-${run}-${i % CHANNELS}`;
  const subscribers = Array.from(
    { length: STREAMS },
    (_, i) => new ResumingSubscriber(hostname, Number(port), channelOf(i), log),
  );
  try {
    for (let i = 0; i < subscribers.length; i += 250) {
      for (const s of subscribers.slice(i, i + 250)) s.start();
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await expect
      .poll(() => subscribers.filter((s) => s.lastEventId !== undefined).length, {
        timeout: 60_000,
      })
      .toBe(STREAMS);
    // The publisher: 20 a second, round the channels, each retried (same id) until acknowledged.
    const acked = new Map<string, number[]>();
    let publishing = true;
    let seq = 0;
    const publisher = (async () => {
      while (publishing) {
        const n = ++seq;
        const channel = channelOf(n);
        const started = Date.now();
        for (;;) {
          const response = await publishViaApi(
            { channel, data: { seq: n }, id: `${run}-${n}` },
            { base: nginx.url },
          ).catch(() => undefined);
          if (response?.status === 200) break;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        acked.set(channel, [...(acked.get(channel) ?? []), n]);
        await new Promise((resolve) =>
          setTimeout(resolve, Math.max(0, 1000 / RATE - (Date.now() - started))),
        );
      }
    })();
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const firstConnect = log.connects.length;
    const callsBefore = await commandCalls(admin);
    const stormStart = performance.now();
    let cpu = 0;
    for (let i = 0; i < 3; i++) {
      const spare = ports.find((p) => !servers.some((s) => s.port === p)) as number;
      const fresh = await startAppServer(env, { port: spare });
      const old = servers[i];
      const before = cpuSeconds(old.pid);
      await old.stop("SIGTERM");
      cpu += before;
      servers[i] = fresh;
    }
    const stormSeconds = (performance.now() - stormStart) / 1000;
    const calls = (await commandCalls(admin)) - callsBefore;
    cpu += servers.reduce((sum, s) => sum + cpuSeconds(s.pid), 0);
    await new Promise((resolve) => setTimeout(resolve, 2000));
    publishing = false;
    await publisher;
    // Every acknowledged event reaches every stream, once, in order.
    const complete = () =>
      subscribers.filter((s, i) => s.seqs.length >= (acked.get(channelOf(i))?.length ?? 0)).length;
    await expect
      .poll(complete, { timeout: 60_000 })
      .toBe(STREAMS)
      .catch(() => {});
    const wrong = subscribers
      .map((s, i) => ({ s, expected: acked.get(channelOf(i)) ?? [] }))
      .filter(({ s, expected }) => JSON.stringify(s.seqs) !== JSON.stringify(expected));
    for (const { s, expected } of wrong.slice(0, 3)) {
      console.info(
        `[rolling-restart] a stream saw ${JSON.stringify(s.seqs)}, expected ${JSON.stringify(expected)} (last id ${s.lastEventId})`,
      );
    }
    expect(wrong.length).toBe(0);
    // The only refusal: the documented 503, with its Retry-After.
    expect(log.refusals.filter((r) => r.status !== 503 || !r.retryAfter)).toEqual([]);
    const resume = spread(log.resumeMs);
    const figures = {
      streams: STREAMS,
      spreadMs,
      events: seq,
      resumed: log.resumeMs.length,
      resumeMs: resume,
      peakConnectsPerSecond: peakPerSecond(log.connects.slice(firstConnect)),
      refused503: log.refusals.length,
      redisCommandsPerSecond: Math.round(calls / stormSeconds),
      instanceCpuSeconds: Number(cpu.toFixed(1)),
      stormSeconds: Number(stormSeconds.toFixed(1)),
    };
    console.info(`[rolling-restart] ${JSON.stringify(figures)}`);
    console.info(`[rolling-restart] slow resumes: ${JSON.stringify(log.slow?.slice(0, 10))}`);
    // Every stream of the three old instances moved; none waited long for its first event.
    expect(log.resumeMs.length).toBeGreaterThanOrEqual(STREAMS);
    expect(resume.max).toBeLessThan(10_000);
    return figures;
  } finally {
    for (const s of subscribers) s.stop();
    await nginx.stop();
    await Promise.all(servers.map((s) => s.stop()));
    admin.disconnect();
    await redis.stop();
  }
}

test("a rolling restart behind nginx: every acknowledged event reaches every stream once, in order, spread or not", async () => {
  test.setTimeout(360_000);
  const spreadOut = await rollingRestart(2000);
  const allAtOnce = await rollingRestart(0);
  console.info(
    `[rolling-restart] peak connects/s at the surviving instances: ${spreadOut.peakConnectsPerSecond} with a 2 s spread, ${allAtOnce.peakConnectsPerSecond} without`,
  );
});
