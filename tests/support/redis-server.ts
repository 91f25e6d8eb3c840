import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { onTestExit } from "./on-exit";
import { getFreePort } from "./ports";

/** A redis-server this test run started, on its own port; stop() kills only that PID. */
export interface TestRedis {
  url: string;
  port: number;
  pid: number;
  stop(): Promise<void>;
  /** SIGKILL, as a machine dies: no goodbye to clients, replicas or sentinels. */
  kill(): Promise<void>;
  /**
   * Starts it again on the same port (after stop()), e.g. for restart tests; `moreArgs` are
   * added to the first start's (an old master coming back as a replica: `--replicaof`).
   */
  restart(moreArgs?: string[]): Promise<void>;
}

const READY = /Ready to accept connections/;

function launch(port: number, dir: string, extraArgs: string[]): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.env.REDIS_SERVER_BIN ?? "redis-server",
      [
        "--port",
        String(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        dir,
        ...extraArgs,
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let output = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`redis-server did not start on port ${port}:\n${output}`));
    }, 10_000);
    child.stdout?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      if (READY.test(output)) {
        clearTimeout(timer);
        child.stdout?.removeAllListeners("data");
        child.stdout?.resume();
        resolve(child);
      }
    });
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(new Error(`cannot run redis-server (apt-get install redis-server): ${error.message}`));
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited with ${code}:\n${output}`));
    });
  });
}

function waitForExit(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

/** Starts a private redis-server on a free loopback port. */
export async function startRedisServer(extraArgs: string[] = []): Promise<TestRedis> {
  const port = await getFreePort();
  const dir = mkdtempSync(join(tmpdir(), "next-sse-redis-"));
  let child = await launch(port, dir, extraArgs);
  const redis: TestRedis = {
    url: `redis://127.0.0.1:${port}`,
    port,
    pid: child.pid ?? 0,
    async stop() {
      child.kill("SIGTERM");
      await waitForExit(child);
    },
    async kill() {
      child.kill("SIGKILL");
      await waitForExit(child);
    },
    async restart(moreArgs: string[] = []) {
      child = await launch(port, dir, [...extraArgs, ...moreArgs]);
      redis.pid = child.pid ?? 0;
    },
  };
  onTestExit(() => {
    child.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  });
  return redis;
}
