import { readdirSync, readFileSync } from "node:fs";
import { connectInspector } from "@/tests/support/inspector";
import { startAppServer, startNextServer, type TestServer } from "@/tests/support/next-server";
import { BenchSubscriber, type Delivery } from "./client";

/** A server under load: where its streams open, how a message is published, its processes. */
export interface FanoutTarget {
  port: number;
  /** The stream path of subscriber `i`. */
  path(i: number): string;
  /** Publishes message `seq` whose data is `data` (its token for the subscribers). */
  publish(seq: number, data: string): Promise<unknown>;
  /** The server's process; its descendants (nginx's workers) count too. */
  pid: number;
  /** A Node server's live heap after a full collection (bytes): memory per stream without
   * the garbage RSS holds until the collector runs, or keeps after it. */
  heapAfterGc?: () => Promise<number>;
}

export interface FanoutLoad {
  connections: number;
  messages: number;
  /** msg/s; 0: as fast as the publisher goes. */
  rate: number;
  /** Subscribers and messages are spread over this many channels, round-robin. */
  channels: number;
  /** Payload padding, bytes. */
  size: number;
  deadline: number;
  /** Called before the streams open (e.g. to reset Redis's stats). */
  beforeConnect?: () => Promise<void>;
  /** Called once every stream is open, before the messages (e.g. to read Redis's stats). */
  atReady?: () => Promise<void>;
}

export interface FanoutResult {
  connect: { ready: number; ready_all_ms: number; cpu_s: number; cpu_us_per_stream: number };
  delivery: {
    expected: number;
    delivered: number;
    lost: number;
    duplicates: number;
    closed_early: number;
    events_per_s: number;
    publish_errors: number;
  };
  latency_ms: { p50: number; p90: number; p99: number; max: number };
  server: {
    rss_idle_kb: number;
    rss_ready_kb: number;
    rss_end_kb: number;
    rss_per_stream_kb: number;
    /** Live heap per open stream after a full collection (Node servers), else null. */
    heap_per_stream_kb: number | null;
    cpu_s: number;
    cpu_kernel_s: number;
    cpu_pct_of_core: number;
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const round = (n: number, digits = 1) => Number(n.toFixed(digits));

/** A process and its descendants (nginx's master and workers). */
function processTree(pid: number): number[] {
  const children = readdirSync(`/proc/${pid}/task`).flatMap((task) => {
    try {
      return readFileSync(`/proc/${pid}/task/${task}/children`, "utf8").split(" ").filter(Boolean);
    } catch {
      return [];
    }
  });
  return [pid, ...children.flatMap((child) => processTree(Number(child)))];
}

/** VmRSS (kB) and CPU seconds (user + system, and system alone) of a process tree. */
export function processStats(pid: number): { rssKb: number; cpuS: number; sysS: number } {
  const total = { rssKb: 0, cpuS: 0, sysS: 0 };
  for (const p of processTree(pid)) {
    const status = readFileSync(`/proc/${p}/status`, "utf8");
    total.rssKb += Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
    const stat = readFileSync(`/proc/${p}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    total.cpuS += (Number(fields[11]) + Number(fields[12])) / 100;
    total.sysS += Number(fields[12]) / 100;
  }
  return total;
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/**
 * One fan-out run: opens the streams (ready = each got its first bytes), publishes the
 * messages on an absolute schedule, waits until all arrived (or none for 3 s), and measures
 * latency (publish call to receipt), deliveries/s, memory and CPU of the server.
 */
export async function measureFanout(target: FanoutTarget, load: FanoutLoad): Promise<FanoutResult> {
  const { connections: N, messages: M, rate, channels, deadline } = load;
  const subscribers: BenchSubscriber[] = [];
  try {
    await sleep(500);
    const heapIdle = await target.heapAfterGc?.();
    const idle = processStats(target.pid);
    const latencies = new Float64Array(N * M);
    let delivered = 0;
    let lastReceive = 0;
    let ready = 0;
    await load.beforeConnect?.();
    const onDelivery = (d: Delivery) => {
      latencies[delivered++] = d.latencyMs;
      lastReceive = performance.now();
    };
    const connectStart = performance.now();
    let allReady: () => void = () => {};
    const readyPromise = new Promise<void>((resolve) => {
      allReady = resolve;
    });
    for (let i = 0; i < N; i++) {
      const subscriber = new BenchSubscriber(onDelivery, () => {
        if (++ready === N) allReady();
      });
      subscribers.push(subscriber);
      await subscriber.open("127.0.0.1", target.port, target.path(i));
    }
    await Promise.race([readyPromise, sleep(Math.max(0, deadline - Date.now()))]);
    const connectMs = performance.now() - connectStart;
    await sleep(300);
    const atReady = processStats(target.pid);
    const heapReady = await target.heapAfterGc?.();
    await load.atReady?.();

    const padding = "x".repeat(load.size);
    const publishStart = performance.now();
    const { cpuS: cpuBefore, sysS: sysBefore } = processStats(target.pid);
    let publishErrors = 0;
    const inFlight = new Set<Promise<unknown>>();
    for (let seq = 0; seq < M && Date.now() < deadline; seq++) {
      const send = target.publish(seq, `bench:${seq}:${performance.now()}|${padding}`);
      const tracked = send.catch(() => publishErrors++).finally(() => inFlight.delete(tracked));
      inFlight.add(tracked);
      if (inFlight.size >= 64) await Promise.race(inFlight);
      if (rate > 0) {
        const due = publishStart + ((seq + 1) * 1000) / rate;
        await sleep(Math.max(0, due - performance.now()));
      }
    }
    await Promise.all(inFlight);
    const expected = (N / channels) * M;
    let lastCount = -1;
    let stillSince = performance.now();
    while (delivered < expected && Date.now() < deadline) {
      await sleep(50);
      if (delivered !== lastCount) {
        lastCount = delivered;
        stillSince = performance.now();
      } else if (performance.now() - stillSince > 3000) break;
    }
    const atEnd = processStats(target.pid);
    const measuredS = (Math.max(lastReceive, publishStart) - publishStart) / 1000;
    const sorted = latencies.slice(0, delivered).sort();
    return {
      connect: {
        ready,
        ready_all_ms: round(connectMs),
        cpu_s: round(atReady.cpuS - idle.cpuS, 2),
        cpu_us_per_stream: Math.round(((atReady.cpuS - idle.cpuS) * 1e6) / Math.max(1, ready)),
      },
      delivery: {
        expected,
        delivered,
        lost: expected - delivered,
        duplicates: subscribers.reduce((sum, s) => sum + s.duplicates, 0),
        closed_early: subscribers.filter((s) => s.closedEarly).length,
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
        heap_per_stream_kb:
          heapIdle === undefined || heapReady === undefined
            ? null
            : round((heapReady - heapIdle) / 1024 / N, 2),
        cpu_s: round(atEnd.cpuS - cpuBefore, 2),
        cpu_kernel_s: round(atEnd.sysS - sysBefore, 2),
        cpu_pct_of_core: round((100 * (atEnd.cpuS - cpuBefore)) / Math.max(measuredS, 0.001)),
      },
    };
  } finally {
    for (const s of subscribers) s.close();
  }
}

/** A next-sse server under a bench, with what `FanoutTarget.heapAfterGc` needs. */
export interface BenchServer {
  server: TestServer;
  heapAfterGc(): Promise<number>;
  stop(): Promise<void>;
}

/**
 * Starts `npm start` (of this checkout, or `script`: another built one's `dist/server.js`)
 * or `next start`, with the inspector on: it reads the live heap after a full collection.
 */
export async function startBenchServer(
  kind: "npm" | "next",
  settings: Record<string, string>,
  script?: string,
): Promise<BenchServer> {
  const nodeArgs = ["--inspect=127.0.0.1:0"];
  const server =
    kind === "next"
      ? await startNextServer(settings, { nodeArgs })
      : await startAppServer(settings, { nodeArgs, script });
  const inspector = await connectInspector(server.output());
  return {
    server,
    heapAfterGc: () => inspector.evaluateAfterGc<number>("process.memoryUsage().heapUsed"),
    stop: async () => {
      inspector.close();
      await server.stop();
    },
  };
}
