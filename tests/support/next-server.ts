import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { getFreePort } from "./ports";

/** A server this test run started; stop() signals only its own process group. */
export interface TestServer {
  url: string;
  port: number;
  pid: number;
  /** Everything the server printed, for assertions on its log and for failure reports. */
  output(): string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

const ROOT = join(__dirname, "..", "..");
const NEXT_BIN = join(ROOT, "node_modules", "next", "dist", "bin", "next");
const STREAM_SERVER_MAIN = join(ROOT, "lib", "server", "stream-server-main.ts");

/** Builds the app once if there is no production build yet. */
export async function ensureBuilt(): Promise<void> {
  if (existsSync(join(ROOT, ".next", "BUILD_ID"))) return;
  await new Promise<void>((resolve, reject) => {
    const build = spawn(process.execPath, [NEXT_BIN, "build"], { cwd: ROOT, stdio: "inherit" });
    build.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`next build: ${code}`))));
  });
}

// Settings the parent shell may carry that must not leak into a test server.
const SCRUBBED = /^(SSE_|REDIS_URL$|PORT$|NODE_OPTIONS$|__NEXT)/;

/**
 * Starts `next start` on a free loopback port with exactly the given next-sse settings.
 * `nodeArgs` go to the Node process that serves (e.g. `--inspect=127.0.0.1:0`).
 */
export async function startNextServer(
  env: Record<string, string>,
  { nodeArgs = [] }: { nodeArgs?: string[] } = {},
): Promise<TestServer> {
  const port = await getFreePort();
  return spawnServer(
    "next start",
    [...nodeArgs, NEXT_BIN, "start", "-p", String(port), "-H", "127.0.0.1"],
    env,
    port,
    "/",
  );
}

/**
 * Starts the plain Node stream server (`npm run start:stream-server`) on a free loopback
 * port with exactly the given next-sse settings; it needs SSE_REDIS_URL.
 */
export async function startStreamServer(env: Record<string, string>): Promise<TestServer> {
  const port = await getFreePort();
  return spawnServer(
    "stream server",
    ["--conditions=react-server", "--import", "tsx", STREAM_SERVER_MAIN],
    { ...env, SSE_STREAM_SERVER_PORT: String(port), SSE_STREAM_SERVER_HOST: "127.0.0.1" },
    port,
    "/api/health",
  );
}

/** Spawns a server in its own process group and waits until `readyPath` answers 2xx. */
async function spawnServer(
  name: string,
  args: string[],
  env: Record<string, string>,
  port: number,
  readyPath: string,
): Promise<TestServer> {
  const cleanEnv = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !SCRUBBED.test(key)),
  );
  const child: ChildProcess = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...cleanEnv, NEXT_TELEMETRY_DISABLED: "1", NODE_ENV: "production", ...env },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code) => resolve(code)),
  );
  // After 'close', everything the process printed has been read.
  const closed = new Promise<void>((resolve) => child.once("close", () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) {
      await closed;
      throw new Error(`${name} exited:\n${output}`);
    }
    try {
      const response = await fetch(`${url}${readyPath}`);
      await response.arrayBuffer();
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${name} did not answer on ${url}:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const pid = child.pid ?? 0;
  process.once("exit", () => {
    try {
      process.kill(-pid, "SIGKILL");
    } catch {
      // already gone
    }
  });
  return {
    url,
    port,
    pid,
    output: () => output,
    async stop(signal = "SIGTERM") {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      try {
        process.kill(-pid, signal);
      } catch {
        return child.exitCode;
      }
      const timer = setTimeout(() => {
        try {
          process.kill(-pid, "SIGKILL");
        } catch {
          // already gone
        }
      }, 10_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}
