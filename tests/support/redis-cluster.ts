import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { Redis } from "ioredis";
import { getFreePort } from "./ports";
import { startRedisServer, type TestRedis } from "./redis-server";

const run = promisify(execFile);

/** A local Redis Cluster of three masters this test run started on free ports. */
export interface TestRedisCluster {
  /** Seed nodes, `host:port` each. */
  nodes: string[];
  servers: TestRedis[];
  stop(): Promise<void>;
}

/**
 * Starts three masters (`redis-server --cluster-enabled yes` on free loopback ports), plus a
 * replica each with `replicas: 1`, joins them with `redis-cli --cluster create` and waits
 * until the cluster says `ok`.
 */
export async function startRedisCluster({ replicas = 0 } = {}): Promise<TestRedisCluster> {
  const count = 3 * (1 + replicas);
  const servers = await Promise.all(Array.from({ length: count }, () => startClusterNode()));
  const nodes = servers.map((s) => `127.0.0.1:${s.port}`);
  const cli = process.env.REDIS_CLI_BIN ?? "redis-cli";
  await run(cli, [
    "--cluster",
    "create",
    ...nodes,
    "--cluster-replicas",
    String(replicas),
    "--cluster-yes",
  ]);
  const clients = servers.map((s) => new Redis(s.url));
  try {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const infos = await Promise.all(clients.map((c) => c.cluster("INFO") as Promise<string>));
      const known = infos.every((info) => info.includes(`cluster_known_nodes:${count}`));
      const replication = await Promise.all(clients.map((c) => c.info("replication")));
      const synced = replication.every(
        (info) => info.includes("role:master") || info.includes("master_link_status:up"),
      );
      const replicasJoined =
        replication.filter((info) => info.includes("role:slave")).length === 3 * replicas;
      const ready = known && synced && replicasJoined;
      if (ready && infos.every((info) => info.includes("cluster_state:ok"))) break;
      if (Date.now() > deadline) throw new Error(`cluster did not become ok:\n${infos.join("\n")}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } finally {
    for (const c of clients) c.disconnect();
  }
  return {
    nodes,
    servers,
    stop: async () => {
      await Promise.all(servers.map((s) => s.stop()));
    },
  };
}

/**
 * One cluster node. Its bus port is chosen free too (by default it is the port + 10000,
 * which may be taken); a port taken between the check and the start is retried.
 */
async function startClusterNode(): Promise<TestRedis> {
  for (let attempt = 1; ; attempt++) {
    const busPort = await getFreePort();
    try {
      return await startRedisServer([
        "--cluster-enabled",
        "yes",
        "--cluster-node-timeout",
        "2000",
        // A replica syncs at once, not 5 s later (Redis 7's diskless sync delay): a replica
        // that never synced cannot take over.
        "--repl-diskless-sync-delay",
        "0",
        "--cluster-port",
        String(busPort),
      ]);
    } catch (error) {
      if (attempt >= 5) throw error;
    }
  }
}
