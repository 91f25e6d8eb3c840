// The README's test command: type check, lint, unit and contract tests (Vitest), a
// production build, then integration and end-to-end tests (Playwright). Every step runs
// even if an earlier one failed; the last line sums them as `N passed, N failed`.
import { spawnSync } from "node:child_process";
import { accessSync, constants, existsSync, readFileSync, rmSync } from "node:fs";
import { delimiter, join } from "node:path";

const ROOT = join(import.meta.dirname, "..");
const BIN = join(ROOT, "node_modules", ".bin");
const RESULTS = join(ROOT, "test-results");
const env = { ...process.env, NEXT_TELEMETRY_DISABLED: "1" };

const steps = [];

function executable(file) {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

const onPath = (name) =>
  (process.env.PATH ?? "").split(delimiter).some((dir) => dir && executable(join(dir, name)));

// What the tests need beyond `npm ci`, checked before anything runs: one line each.
const chromium = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const python = process.env.TEST_PYTHON ?? "/usr/bin/python3";
const missing = [
  !onPath("redis-server") &&
    "redis-server is not on PATH: install Redis 7 (Debian/Ubuntu: sudo apt-get install redis-server; macOS: brew install redis)",
  !executable(chromium) &&
    `no Chromium at ${chromium}: install it (Debian: sudo apt-get install chromium) or set CHROMIUM_PATH to a Chromium or Chrome binary`,
  !executable(process.env.NGINX_BIN ?? "/usr/sbin/nginx") &&
    !onPath("nginx") &&
    "no nginx (tests run the app behind deploy/nginx.conf): install it (Debian: sudo apt-get install nginx-light; macOS: brew install nginx) or set NGINX_BIN",
  spawnSync(python, ["-c", "import jwt"], { stdio: "ignore" }).status !== 0 &&
    `no PyJWT for ${python} (a test mints a token from Python): install it (Debian: sudo apt-get install python3-jwt; else pip install pyjwt) or set TEST_PYTHON to a Python that has it`,
  spawnSync(python, ["-c", "import jsonschema"], { stdio: "ignore" }).status !== 0 &&
    `no jsonschema for ${python} (a Python publisher checks events against the channels' JSON Schema): install it (Debian: sudo apt-get install python3-jsonschema; else pip install jsonschema) or set TEST_PYTHON`,
].filter(Boolean);
if (missing.length > 0) {
  for (const line of missing) console.error(`npm test: ${line}`);
  console.log(`0 passed, ${missing.length} failed`);
  process.exit(1);
}

function run(name, command, args) {
  const started = Date.now();
  console.log(`\n=== ${name}: ${command} ${args.join(" ")}`);
  const file = command === "node" ? process.execPath : join(BIN, command);
  const result = spawnSync(file, args, { cwd: ROOT, env, stdio: "inherit" });
  const ok = result.status === 0;
  console.log(
    `=== ${name}: ${ok ? "ok" : `failed (exit ${result.status ?? result.signal})`} in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
  return ok;
}

function readJson(file) {
  try {
    return JSON.parse(readFileSync(file, "utf8"));
  } catch {
    return undefined;
  }
}

// A check (type check, lint, build) counts as one test.
function check(name, command, args) {
  const ok = run(name, command, args);
  steps.push({ name, passed: ok ? 1 : 0, failed: ok ? 0 : 1 });
  return ok;
}

rmSync(RESULTS, { recursive: true, force: true });
check("typecheck", "tsc", ["--noEmit"]);
check("lint", "biome", ["check", "--error-on-warnings", "."]);

const vitestJson = join(RESULTS, "vitest.json");
const vitestOk = run("unit", "vitest", [
  "run",
  "--reporter=default",
  "--reporter=json",
  `--outputFile.json=${vitestJson}`,
]);
const vitest = readJson(vitestJson);
steps.push({
  name: "unit",
  passed: vitest?.numPassedTests ?? 0,
  failed: (vitest?.numFailedTests ?? 0) + (vitestOk && vitest ? 0 : 1),
});

rmSync(join(ROOT, ".next"), { recursive: true, force: true });
rmSync(join(ROOT, "dist"), { recursive: true, force: true });
// `npm run build`: the app, then the production server and the deploy folder.
if (
  check("build", "next", ["build"]) &&
  check("build server", "node", ["scripts/build-server.mjs"])
) {
  const playwrightJson = join(RESULTS, "playwright.json");
  const playwrightOk = run("e2e", "playwright", ["test"]);
  const report = existsSync(playwrightJson) ? readJson(playwrightJson) : undefined;
  const stats = report?.stats;
  const passed = (stats?.expected ?? 0) + (stats?.flaky ?? 0);
  // No test here is skipped on purpose: a skipped one did not run because a test it
  // depends on failed, so it counts as failed. A run that failed without naming a test
  // (say, in global setup) counts as one failure.
  const named = (stats?.unexpected ?? 0) + (stats?.skipped ?? 0);
  const failed = playwrightOk && stats ? named : Math.max(named, 1);
  steps.push({ name: "integration+e2e", passed, failed });
}

console.log("\n=== summary");
for (const step of steps) console.log(`${step.name}: ${step.passed} passed, ${step.failed} failed`);
const passed = steps.reduce((sum, s) => sum + s.passed, 0);
const failed = steps.reduce((sum, s) => sum + s.failed, 0);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
