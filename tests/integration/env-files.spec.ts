import { expect, test } from "@playwright/test";
import {
  type AppCopy,
  copyApp,
  descendants,
  isAlive,
  type PersonProcess,
  runAsPerson,
} from "../support/app-copy";
import { mintTestToken, testEnv } from "../support/env";
import { getFreePort, isListening } from "../support/ports";
import { openStream } from "../support/sse-client";

// Each entry point a person runs (`npm start`, `npm run dev`, the deploy folder's
// `server.js`, `SSE_WORKERS` workers), started in a copy of the project with its settings
// in an env file only, as the README says: none is passed in the process environment.
test.describe.configure({ mode: "serial" });

const FILE_SECRET = "secret-from-the-env-file-0123456789abcdef";
const NPM_START_FLAGS = ["--min-semi-space-size=64", "--max-semi-space-size=64"];

function settingsFile(port: number, extra = ""): string {
  return [
    "# written by the test, as a person would after cp .env.example .env.local",
    `SSE_REDIS_URL=${testEnv("TEST_REDIS_URL")}`,
    `SSE_SECRET="${FILE_SECRET}"`,
    `PORT=${port}`,
    "HOSTNAME=127.0.0.1",
    "SSE_DEMO=off",
    extra,
  ].join("\n");
}

/** The Redis broker answers health, and a token signed with the file's secret is taken. */
async function expectFileSettings(base: string): Promise<void> {
  const health = await (await fetch(`${base}/api/health`)).json();
  expect(health.broker).toBe("redis");
  const channel = `private-env-${Date.now()}`;
  const token = mintTestToken([channel], 60, FILE_SECRET);
  const stream = await openStream(`${base}/stream?channel=${channel}`, {
    Authorization: `Bearer ${token}`,
  });
  expect(stream.response.status).toBe(200);
  stream.close();
  const forged = mintTestToken([channel], 60, "another-secret-of-at-least-32-chars!!");
  const refused = await openStream(`${base}/stream?channel=${channel}`, {
    Authorization: `Bearer ${forged}`,
  });
  expect(refused.response.status).toBe(401);
}

/** Signals `pid`, then waits until nothing listens on the port and no descendant lives. */
async function expectStoppedBy(
  signal: NodeJS.Signals,
  pid: number,
  root: PersonProcess,
  port: number,
): Promise<void> {
  const tree = [root.pid, ...descendants(root.pid)];
  process.kill(pid, signal);
  await root.exited;
  await expect
    .poll(async () => ({
      listening: await isListening(port),
      alive: tree.filter(isAlive),
    }))
    .toEqual({ listening: false, alive: [] });
}

let copy: AppCopy | undefined;
let running: PersonProcess | undefined;
test.afterEach(() => {
  running?.kill();
  copy?.remove();
  running = undefined;
  copy = undefined;
});

test("npm start reads .env.local; SIGTERM to npm's PID stops it and leaves no process", async () => {
  copy = copyApp("built");
  const port = await getFreePort();
  copy.write(".env.local", settingsFile(port));
  running = runAsPerson(copy.dir, "npm", ["start"]);
  await running.waitFor(/production server on/);
  expect(running.output()).toContain("settings from .env.local");
  expect(running.output()).not.toContain("SSE_SECRET is not set");
  await expectFileSettings(`http://127.0.0.1:${port}`);
  await expectStoppedBy("SIGTERM", running.pid, running, port);
});

test("npm run dev applies an edited channel declaration without a restart, and stops at start on a bad one", async () => {
  test.setTimeout(240_000);
  copy = copyApp("source");
  const port = await getFreePort();
  const publishToken = "publish-token-from-the-env-file-0123";
  copy.write(".env.local", settingsFile(port, `SSE_PUBLISH_TOKEN=${publishToken}`));
  running = runAsPerson(copy.dir, "npm", ["run", "dev"]);
  await running.waitFor(/dev server on/, 120_000);
  const base = `http://127.0.0.1:${port}`;
  const publishOrder = async (qty: unknown) => {
    const response = await fetch(`${base}/api/publish`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${publishToken}` },
      body: JSON.stringify({ channel: "orders", type: "order", data: { item: "tea", qty } }),
    });
    return response.status;
  };
  expect(await publishOrder("two")).toBe(400);
  // A developer lets quantities be words, and saves.
  const declarations = "lib/channels.ts";
  const before = copy.read(declarations);
  const edited = before.replace("qty: z.number().int().positive(),", "qty: z.string(),");
  expect(edited).not.toBe(before);
  copy.write(declarations, edited);
  const saved = Date.now();
  await expect.poll(() => publishOrder("two"), { timeout: 90_000, intervals: [500] }).toBe(200);
  console.info(`[dev] the edited declaration applied ${Date.now() - saved} ms after the save`);
  await expectStoppedBy("SIGTERM", running.pid, running, port);
  // A declaration that cannot be used stops the next start, naming the pattern.
  copy.write(declarations, before.replace("maxRewind: 50,", "maxRewind: -1,"));
  running = runAsPerson(copy.dir, "npm", ["run", "dev"]);
  expect(await running.exited).toBe(1);
  expect(running.output()).toContain(
    '[next-sse] channels: "orders": maxRewind must be a whole number of at least 0',
  );
});

test("every SSE_WORKERS worker reads .env.production; SIGINT to the server npm started stops all", async () => {
  copy = copyApp("built");
  const port = await getFreePort();
  copy.write(".env.production", settingsFile(port, "SSE_WORKERS=2"));
  running = runAsPerson(copy.dir, "npm", ["start"]);
  await running.waitFor(/starting 2 workers/);
  await running.waitFor(/production server on[^\n]*worker[\s\S]*production server on[^\n]*worker/);
  for (let i = 0; i < 4; i++) await expectFileSettings(`http://127.0.0.1:${port}`);
  // The process npm started is the server itself (no shell between them).
  const [server] = descendants(running.pid);
  await expectStoppedBy("SIGINT", server, running, port);
});

test("the deploy folder's server.js reads its .env.production", async () => {
  copy = copyApp("standalone");
  const port = await getFreePort();
  copy.write(".env.production", settingsFile(port));
  running = runAsPerson(copy.dir, process.execPath, [...NPM_START_FLAGS, "server.js"]);
  await running.waitFor(/production server on/);
  await expectFileSettings(`http://127.0.0.1:${port}`);
  await expectStoppedBy("SIGTERM", running.pid, running, port);
});

test("a bad env file line or setting names its file; a process variable wins over a file", async () => {
  copy = copyApp("built");
  const port = await getFreePort();
  copy.write(".env.local", `${settingsFile(port)}\nSSE_REDIS_URL redis://oops\n`);
  const malformed = runAsPerson(copy.dir, "npm", ["start"]);
  expect(await malformed.exited).not.toBe(0);
  expect(malformed.output()).toMatch(/\.env\.local line 8: not a NAME=value line/);

  copy.write(".env.local", settingsFile(port, "SSE_SECRET_PREVIOUS=too-short"));
  const invalid = runAsPerson(copy.dir, "npm", ["start"]);
  expect(await invalid.exited).toBe(1);
  expect(invalid.output()).toContain("SSE_SECRET_PREVIOUS (in .env.local): must be at least 32");

  // The file's value is refused, the process's wins; a typo'd name is reported, once.
  copy.write(".env.local", settingsFile(port, "SSE_RETRY_MS=soon\nSSE_REDIS_ULR=redis://x"));
  running = runAsPerson(copy.dir, "npm", ["start"], { SSE_RETRY_MS: "2500" });
  await running.waitFor(/production server on/);
  const typo = running
    .output()
    .match(/unknown setting SSE_REDIS_ULR \(did you mean SSE_REDIS_URL\?\)/g);
  expect(typo).toHaveLength(1);
  const stream = await openStream(`http://127.0.0.1:${port}/stream?channel=env-retry`);
  await expect.poll(() => stream.retry).toBe(2500);
  stream.close();
});

test("npm run dev reads .env.local, applies an edited access rule to the next /stream, and stops by PID", async () => {
  test.setTimeout(240_000);
  copy = copyApp("source");
  const port = await getFreePort();
  copy.write(".env.local", settingsFile(port));
  running = runAsPerson(copy.dir, "npm", ["run", "dev"]);
  await running.waitFor(/dev server on/, 120_000);
  const base = `http://127.0.0.1:${port}`;
  await expectFileSettings(base);
  const orders = await openStream(`${base}/stream?channel=orders`);
  expect(orders.response.status).toBe(200);
  orders.close();
  // A developer requires a login for `orders` in the access policy, and saves.
  const policy = "lib/access/authorize.ts";
  const before = copy.read(policy);
  const edited = before.replace(
    "  const context: AuthorizeContext = {",
    '  if (channels.includes("orders")) throw new HttpError(401, "login_required", "log in");\n  const context: AuthorizeContext = {',
  );
  expect(edited).not.toBe(before);
  copy.write(policy, edited);
  const saved = Date.now();
  await expect
    .poll(
      async () => {
        const stream = await openStream(`${base}/stream?channel=orders`);
        stream.close();
        return stream.response.status;
      },
      { timeout: 90_000, intervals: [500] },
    )
    .toBe(401);
  console.info(
    `[dev] the edited rule refused the next stream ${Date.now() - saved} ms after the save`,
  );
  // What a reload cannot reach says so: the broker is made once, settings are read once.
  const broker = "lib/broker/memory.ts";
  copy.write(broker, `${copy.read(broker)}\n// edited\n`);
  await running.waitFor(/lib\/broker\/memory\.ts changed: the broker is made once/);
  copy.write(".env.local", settingsFile(port, "SSE_RETRY_MS=1000"));
  await running.waitFor(/\.env\.local changed: settings are read once at start/);
  await expectStoppedBy("SIGTERM", running.pid, running, port);
});
