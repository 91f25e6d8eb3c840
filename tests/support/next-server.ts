import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { onTestExit } from "./on-exit";
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
const SERVER_BUNDLE = join(ROOT, "dist", "server.js");
/** The Node flags `npm start` runs the server with (package.json), so tests run the same. */
const NPM_START_FLAGS = (
  JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { scripts: { start: string } }
).scripts.start
  .split(" ")
  .filter((word) => word.startsWith("--"));

function runNode(args: string[]): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const build = spawn(process.execPath, args, { cwd: ROOT, stdio: "inherit" });
    build.on("exit", (code) =>
      code === 0 ? resolve() : reject(new Error(`${args.join(" ")}: exit ${code}`)),
    );
  });
}

/** Builds the app and the production server (`npm run build`) if either is missing. */
export async function ensureBuilt(): Promise<void> {
  if (!existsSync(join(ROOT, ".next", "BUILD_ID"))) await runNode([NEXT_BIN, "build"]);
  if (!existsSync(SERVER_BUNDLE)) await runNode([join(ROOT, "scripts", "build-server.mjs")]);
}

// Settings the parent shell may carry that must not leak into a test server.
const SCRUBBED = /^(SSE_|REDIS_URL$|PORT$|HOSTNAME$|VERCEL$|NODE_OPTIONS$|__NEXT)/;

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
 * Starts the production server (`npm start`: `node dist/server.js`) on a free loopback port
 * with exactly the given next-sse settings. `script` runs another copy of the server (the
 * deploy folder's `server.js`); `port` serves on that port (a restart where browsers were).
 */
export async function startAppServer(
  env: Record<string, string>,
  {
    nodeArgs = [],
    script = SERVER_BUNDLE,
    port: fixedPort,
  }: { nodeArgs?: string[]; script?: string; port?: number } = {},
): Promise<TestServer> {
  // A fixed port: a server restarted where browsers were connected.
  const port = fixedPort ?? (await getFreePort());
  return spawnServer(
    "npm start",
    [...NPM_START_FLAGS, ...nodeArgs, script],
    { ...env, PORT: String(port), HOSTNAME: "127.0.0.1" },
    port,
    "/",
  );
}

/** The two ways to serve the app that every stream test runs against. */
export type ServerKind = "npm start" | "next start";

/**
 * The three ways the app is served, for tests that start servers of their own: `npm start`
 * (plain `/stream` requests read off the socket), `npm start` with SSE_FAST_PATH=off (every
 * stream through Node's HTTP server) and `next start` (the route handler).
 */
export const SERVING_WAYS: ReadonlyArray<{
  kind: ServerKind;
  label: string;
  env: Readonly<Record<string, string>>;
}> = [
  { kind: "npm start", label: "npm start", env: {} },
  { kind: "npm start", label: "npm start, fast path off", env: { SSE_FAST_PATH: "off" } },
  { kind: "next start", label: "next start", env: {} },
];

/** Starts the app as `kind` says, with exactly the given settings. */
export function startServer(
  kind: ServerKind,
  env: Record<string, string>,
  options: { nodeArgs?: string[] } = {},
): Promise<TestServer> {
  return kind === "npm start" ? startAppServer(env, options) : startNextServer(env, options);
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
      // Any answer means it is serving (a server with the demo off answers 404 at `/`).
      const response = await fetch(`${url}${readyPath}`);
      await response.arrayBuffer();
      break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      // Not ours to leave behind: stop it before reporting.
      try {
        process.kill(-(child.pid ?? 0), "SIGKILL");
      } catch {
        // already gone
      }
      throw new Error(`${name} did not answer on ${url}:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const pid = child.pid ?? 0;
  // Killed with the test process if a test never stops it; forgotten once it exits, so
  // servers started one after another do not pile up listeners.
  const killOnExit = () => {
    try {
      process.kill(-pid, "SIGKILL");
    } catch {
      // already gone
    }
  };
  const forget = onTestExit(killOnExit);
  void exited.then(forget);
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
