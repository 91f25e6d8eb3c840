import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { onTestExit } from "./on-exit";
import { getFreePort } from "./ports";
import { startRedisServer, type TestRedis } from "./redis-server";

/** A master, a replica and three sentinels watching them, all started by this test run. */
export interface TestSentinelGroup {
  /** `host:port` of each sentinel. */
  sentinels: string[];
  master: string;
  /** The two data nodes; which one is the master changes with each failover. */
  servers: TestRedis[];
  /** The data node that is master now, as the sentinels say. */
  currentMaster(): Promise<TestRedis>;
  stop(): Promise<void>;
}

const MASTER_NAME = "mymaster";

/**
 * Starts a master, a replica of it, and three sentinels (quorum 2, a master is down after
 * 1 s without an answer), on free loopback ports. Resolves when every sentinel watches the
 * master and knows the replica.
 */
export async function startSentinelGroup(): Promise<TestSentinelGroup> {
  // Replicas sync at once, not 5 s later (Redis 7's diskless sync delay).
  const fast = ["--repl-diskless-sync-delay", "0"];
  const master = await startRedisServer(fast);
  const replica = await startRedisServer([
    ...fast,
    "--replicaof",
    "127.0.0.1",
    String(master.port),
  ]);
  const sentinels = await Promise.all([0, 1, 2].map(() => startSentinel(master.port)));
  const clients = sentinels.map(({ port }) => new Redis({ port, host: "127.0.0.1" }));
  try {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const replicas = await Promise.all(
        clients.map((c) => c.call("SENTINEL", "REPLICAS", MASTER_NAME) as Promise<unknown[]>),
      );
      if (replicas.every((list) => list.length >= 1)) break;
      if (Date.now() > deadline) throw new Error("the sentinels did not find the replica");
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  } finally {
    for (const c of clients) c.disconnect();
  }
  const servers = [master, replica];
  return {
    sentinels: sentinels.map(({ port }) => `127.0.0.1:${port}`),
    master: MASTER_NAME,
    servers,
    async currentMaster() {
      const client = new Redis({ port: sentinels[0].port, host: "127.0.0.1" });
      try {
        const [, port] = (await client.call(
          "SENTINEL",
          "GET-MASTER-ADDR-BY-NAME",
          MASTER_NAME,
        )) as [string, string];
        const found = servers.find((s) => s.port === Number(port));
        if (found === undefined) throw new Error(`no data node on port ${port}`);
        return found;
      } finally {
        client.disconnect();
      }
    },
    async stop() {
      await Promise.all([...sentinels.map((s) => s.stop()), master.stop(), replica.stop()]);
    },
  };
}

async function startSentinel(masterPort: number): Promise<{ port: number; stop(): Promise<void> }> {
  const port = await getFreePort();
  const dir = mkdtempSync(join(tmpdir(), "next-sse-sentinel-"));
  const config = join(dir, "sentinel.conf");
  // Sentinel rewrites its own config file: each gets a private one.
  writeFileSync(
    config,
    [
      `port ${port}`,
      "bind 127.0.0.1",
      `dir ${dir}`,
      `sentinel monitor ${MASTER_NAME} 127.0.0.1 ${masterPort} 2`,
      `sentinel down-after-milliseconds ${MASTER_NAME} 1000`,
      `sentinel failover-timeout ${MASTER_NAME} 3000`,
      `sentinel parallel-syncs ${MASTER_NAME} 1`,
      "",
    ].join("\n"),
  );
  const child: ChildProcess = spawn(
    process.env.REDIS_SERVER_BIN ?? "redis-server",
    [config, "--sentinel"],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  await new Promise<void>((resolve, reject) => {
    let output = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`sentinel did not start on ${port}:\n${output}`));
    }, 10_000);
    child.stdout?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes("+monitor master")) {
        clearTimeout(timer);
        child.stdout?.removeAllListeners("data");
        child.stdout?.resume();
        resolve();
      }
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`sentinel exited with ${code}:\n${output}`));
    });
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  onTestExit(() => child.kill("SIGKILL"));
  return {
    port,
    async stop() {
      child.kill("SIGTERM");
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
