import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { onTestExit } from "./on-exit";
import { getFreePort, isListening } from "./ports";

/** An nginx this test started on a free loopback port, in front of `upstreams`. */
export interface TestNginx {
  url: string;
  /** nginx's master process (its workers are its children). */
  pid: number;
  stop(): Promise<void>;
}

const SHIPPED = join(__dirname, "..", "..", "deploy", "nginx.conf");

/**
 * The config the project ships (`deploy/nginx.conf`), on this test's port and in front of
 * `upstreams`, inside a top-level config of the test's own (a temp folder for everything).
 */
export function nginxConfig(
  dir: string,
  port: number,
  upstreams: number[],
  options: NginxOptions = {},
): string {
  const { workers = 1, workerConnections = 4096, buffering = false } = options;
  const shipped = readFileSync(SHIPPED, "utf8");
  const servers = upstreams.map((p) => `server 127.0.0.1:${p} max_fails=0;`).join("\n    ");
  const site = shipped
    .replace("server 127.0.0.1:3000 max_fails=0;", servers)
    .replace("listen 80;", `listen 127.0.0.1:${port};`);
  if (site === shipped || !site.includes("proxy_buffering off;")) {
    throw new Error("deploy/nginx.conf no longer has the lines the test replaces");
  }
  // A proxy someone left buffering: what the client must notice.
  // The app's `X-Accel-Buffering: no` would switch nginx's buffering off again: ignored here,
  // as a proxy that does not know the header would.
  const served = buffering
    ? site.replace(
        "proxy_buffering off;",
        "proxy_buffering on;\n        proxy_ignore_headers X-Accel-Buffering;",
      )
    : site;
  return `
${process.getuid?.() === 0 ? "user root;" : ""}
worker_processes ${workers};
worker_rlimit_nofile ${Math.min(19_000, workerConnections * 2)};
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections ${workerConnections}; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
${served}
}
`;
}

/** How the test's nginx differs from one worker of 4096 connections. */
export interface NginxOptions {
  workers?: number;
  workerConnections?: number;
  /** `proxy_buffering on` for /stream: the misconfiguration the client reports. */
  buffering?: boolean;
}

/** Starts nginx (Debian's `nginx-light`) with a config written here; stop() ends only it. */
export function startNginx(upstreams: number[], options: NginxOptions = {}): Promise<TestNginx> {
  return startNginxWith((dir, port) => nginxConfig(dir, port, upstreams, options));
}

/** Starts nginx with the config `configFor` writes for its folder and port. */
export async function startNginxWith(
  configFor: (dir: string, port: number) => string,
): Promise<TestNginx> {
  const dir = mkdtempSync(join(tmpdir(), "next-sse-nginx-"));
  const port = await getFreePort();
  writeFileSync(join(dir, "nginx.conf"), configFor(dir, port));
  const child: ChildProcess = spawn(
    nginxBin(),
    ["-p", dir, "-e", join(dir, "error.log"), "-c", join(dir, "nginx.conf")],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let output = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const kill = () => {
    child.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  };
  const forget = onTestExit(kill);
  const deadline = Date.now() + 10_000;
  while (!(await isListening(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      kill();
      forget();
      throw new Error(`nginx did not start:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid ?? 0,
    async stop() {
      child.kill("SIGQUIT");
      await exited;
      rmSync(dir, { recursive: true, force: true });
      forget();
    },
  };
}

/** NGINX_BIN, else Debian's (in /usr/sbin, which a user's PATH may lack), else `nginx`. */
export function nginxBin(): string {
  return process.env.NGINX_BIN ?? (existsSync("/usr/sbin/nginx") ? "/usr/sbin/nginx" : "nginx");
}
