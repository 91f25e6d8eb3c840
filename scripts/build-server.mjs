// Compiles server.ts (`npm run build`, `npm run dev`) into dist/server.js, and completes the
// self-contained deploy folder `.next/standalone` that `next build` traced: our server as its
// server.js, plus the public files and static assets Next.js leaves for a CDN.
// With --serve (`npm run dev`) it then runs the server in this same process: one PID, so a
// signal to the process npm started stops the server and leaves nothing behind.
import { cpSync, existsSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { build, stop } from "esbuild";

const ROOT = join(import.meta.dirname, "..");
const STANDALONE = join(ROOT, ".next", "standalone");
const dev = process.argv.includes("--dev");

const options = {
  entryPoints: [join(ROOT, "server.ts")],
  bundle: true,
  platform: "node",
  target: "node20",
  format: "cjs",
  // Next.js stays a package: the server only calls next() and its request handler.
  // @next/env too: the one copy Next.js loads env files with, so it loads them once.
  external: ["next", "@next/env"],
  // `server-only` throws outside React Server Components; this bundle is server code.
  alias: { "server-only": join(ROOT, "tests", "support", "empty.ts") },
  // Before `next` loads: React picks its production build from NODE_ENV.
  banner: {
    js: 'process.env.NODE_ENV ??= process.argv.includes("--dev") ? "development" : "production";',
  },
  logLevel: "warning",
};

await build({ ...options, outfile: join(ROOT, "dist", "server.js") });

if (!dev && existsSync(STANDALONE)) {
  await build({ ...options, outfile: join(STANDALONE, "server.js"), allowOverwrite: true });
  rmSync(join(STANDALONE, "public"), { recursive: true, force: true });
  rmSync(join(STANDALONE, ".next", "static"), { recursive: true, force: true });
  if (existsSync(join(ROOT, "public")))
    cpSync(join(ROOT, "public"), join(STANDALONE, "public"), { recursive: true });
  cpSync(join(ROOT, ".next", "static"), join(STANDALONE, ".next", "static"), { recursive: true });
  console.log(
    "next-sse: deploy folder ready: .next/standalone (run: node --min-semi-space-size=64 --max-semi-space-size=64 --initial-old-space-size=128 .next/standalone/server.js)",
  );
}

if (process.argv.includes("--serve")) {
  // esbuild's service is a child process: not one to leave running beside the server.
  await stop();
  createRequire(import.meta.url)(join(ROOT, "dist", "server.js"));
}
