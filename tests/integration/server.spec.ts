import { execFileSync } from "node:child_process";
import { expect, test } from "@playwright/test";
import { publishViaApi, TEST_PUBLISH_TOKEN, testEnv, uniqueChannel } from "../support/env";
import { startAppServer, startServer } from "../support/next-server";
import { openStream } from "../support/sse-client";

// `npm start`, the production server: /stream on the Node sink, everything else through
// Next.js's request handler, one process and one port (or several workers on that port).
const health = async (base: string) => (await fetch(`${base}/api/health`)).json();

test("serves /stream on the Node sink and pages, APIs and other methods through Next.js", async () => {
  const app = testEnv("APP_URL");
  const s = await openStream(`${app}/stream?channel=${uniqueChannel()}`);
  expect(s.response.status).toBe(200);
  await expect.poll(async () => (await health(app)).sinks.node).toBeGreaterThan(0);
  const page = await fetch(`${app}/`);
  expect(page.headers.get("content-type")).toContain("text/html");
  expect(await page.text()).toContain("next-sse");
  // Not a stream method: Next.js's route answers it.
  expect((await fetch(`${app}/stream`, { method: "POST" })).status).toBe(405);
  s.close();
  // Under `next start` the same stream is a route handler's web stream.
  const viaNext = await openStream(`${testEnv("NEXT_APP_URL")}/stream?channel=${uniqueChannel()}`);
  await expect
    .poll(async () => (await health(testEnv("NEXT_APP_URL"))).sinks)
    .toMatchObject({ node: 0, web: expect.any(Number) });
  expect((await health(testEnv("NEXT_APP_URL"))).sinks.web).toBeGreaterThan(0);
  viaNext.close();
});

test("without Redis, publishes from a route handler and the API reach Node-served streams", async () => {
  const base = testEnv("MEMORY_APP_URL");
  const s = await openStream(`${base}/stream`);
  await expect.poll(async () => (await health(base)).sinks.node).toBeGreaterThan(0);
  expect(await (await fetch(`${base}/hello`)).text()).toBe("Message sent!");
  const [event] = await s.waitForEvents(1);
  expect(event.event).toBe("greeting");
  s.close();
});

for (const kind of ["npm start", "next start"] as const) {
  test(`${kind}: an invalid setting stops the server at start, naming the variable`, async () => {
    const started = startServer(kind, { SSE_HEARTBEAT_MS: "soon", SSE_REDIS_URL: "http://nope" });
    await expect(started).rejects.toThrow(
      /invalid next-sse settings: SSE_REDIS_URL: .*SSE_HEARTBEAT_MS/,
    );
  });
}

test("SSE_WORKERS runs several processes on one port, coordinated through Redis", async () => {
  test.setTimeout(60_000);
  const server = await startAppServer({
    SSE_REDIS_URL: testEnv("TEST_REDIS_URL"),
    SSE_PUBLISH_TOKEN: TEST_PUBLISH_TOKEN,
    SSE_WORKERS: "2",
  });
  try {
    const workers = execFileSync("pgrep", ["-P", String(server.pid)], { encoding: "utf8" })
      .trim()
      .split("\n");
    expect(workers).toHaveLength(2);
    // Both listening (each says so once Next.js is prepared), so connections reach both.
    await expect
      .poll(() => server.output().match(/production server on \S+ \(worker \d+\)/g)?.length ?? 0)
      .toBe(2);
    const channel = uniqueChannel("workers");
    // Connections are spread over the workers; every stream gets every event.
    const streams = await Promise.all(
      Array.from({ length: 8 }, () => openStream(`${server.url}/stream?channel=${channel}`)),
    );
    const published = await publishViaApi(
      { channel, data: "to every worker" },
      { base: server.url },
    );
    expect((await published.json()).receivers).toBe(2);
    for (const s of streams) {
      expect((await s.waitForEvents(1)).map((e) => e.data)).toEqual(["to every worker"]);
      s.close();
    }
    expect(await server.stop("SIGTERM")).toBe(143);
  } finally {
    await server.stop("SIGKILL");
  }
});

test("SSE_WORKERS without Redis runs one process, and says why", async () => {
  const server = await startAppServer({ SSE_WORKERS: "2" });
  try {
    expect(server.output()).toMatch(/SSE_WORKERS=2 needs Redis/);
    const children = (() => {
      try {
        return execFileSync("pgrep", ["-P", String(server.pid)], { encoding: "utf8" }).trim();
      } catch {
        return ""; // pgrep exits 1 when there is none
      }
    })();
    expect(children).toBe("");
  } finally {
    await server.stop();
  }
});
