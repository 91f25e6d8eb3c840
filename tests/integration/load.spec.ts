import { connect } from "node:net";
import { expect, test } from "@playwright/test";
import { Redis } from "ioredis";
import { publishViaApi, TEST_PUBLISH_TOKEN, testEnv, uniqueChannel } from "../support/env";
import { connectInspector } from "../support/inspector";
import { startAppServer, startNextServer, type TestServer } from "../support/next-server";
import { openStream, type TestStream } from "../support/sse-client";

// Bounded load tests on loopback: they check behaviour (drops, releases), not timings.
// They count streams and listeners, so they get a server of their own.
let app: TestServer;
let nextApp: TestServer;
test.beforeAll(async () => {
  const settings = {
    SSE_REDIS_URL: testEnv("TEST_REDIS_URL"),
    // Every client here is 127.0.0.1: no per-client stream limit (SSE_MAX_STREAMS_PER_CLIENT).
    SSE_MAX_STREAMS_PER_CLIENT: "0",
    SSE_PUBLISH_PER_MINUTE: "0",
    SSE_PUBLISH_TOKEN: TEST_PUBLISH_TOKEN,
  };
  // The inspector lets the leak check collect garbage before it reads the heap.
  [app, nextApp] = await Promise.all([
    startAppServer(settings, { nodeArgs: ["--inspect=127.0.0.1:0"] }),
    startNextServer(settings),
  ]);
});
test.afterAll(() => Promise.all([app?.stop(), nextApp?.stop()]));
const SERVERS = [
  ["npm start", () => app],
  ["next start", () => nextApp],
] as const;
test.describe.configure({ mode: "serial" });

const health = async (server = app) => (await fetch(`${server.url}/api/health`)).json();

for (const [name, server] of SERVERS) {
  test(`${name}: HEAD answers like GET without opening a stream`, async () => {
    const before = (await health(server())).streams;
    for (let i = 0; i < 3; i++) {
      const response = await fetch(`${server().url}/stream?channel=head-check`, {
        method: "HEAD",
      });
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
    }
    const bad = await fetch(`${server().url}/stream?channel=bad%20name`, { method: "HEAD" });
    expect(bad.status).toBe(400);
    expect((await health(server())).streams).toBe(before);
  });

  test(`${name}: a client that stops reading is dropped past its backlog; the others get every event`, async () => {
    test.setTimeout(90_000);
    const channel = uniqueChannel("slow");
    const url = new URL(`${server().url}/stream?channel=${channel}`);
    // The stalled client: a raw socket that sends its request and never reads again.
    const stalled = connect(Number(url.port), url.hostname);
    stalled.write(
      `GET ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\nAccept: text/event-stream\r\n\r\n`,
    );
    stalled.pause();
    const stalledClosed = new Promise<void>((resolve) => stalled.once("close", () => resolve()));
    stalled.on("error", () => {});
    const readers: TestStream[] = await Promise.all(
      Array.from({ length: 3 }, () => openStream(url.href)),
    );
    await expect.poll(async () => (await health(server())).listeners).toBeGreaterThanOrEqual(4);
    const dropsBefore = (await health(server())).slowConsumerDrops;

    // 16 MB in all: more than the stalled client's 1 MiB backlog plus what loopback TCP
    // buffers can hold, so the server must give up on it.
    const payload = "x".repeat(16 * 1024);
    const total = 1000;
    for (let i = 0; i < total; i++) {
      // The id makes a retry after a dropped connection safe: it is delivered once.
      const body = { channel, data: `${i}|${payload}`, id: `event-${i}` };
      const response = await publishViaApi(body, { base: app.url }).catch(() =>
        publishViaApi(body, { base: app.url }),
      );
      expect(response.status).toBe(200);
    }
    for (const reader of readers) {
      const events = await reader.waitForEvents(total, 60_000);
      expect(events.map((e) => Number(e.data.split("|")[0]))).toEqual(
        Array.from({ length: total }, (_, i) => i),
      );
      reader.close();
    }
    expect((await health(server())).slowConsumerDrops).toBe(dropsBefore + 1);
    // Once it reads again it gets what the kernel held, then the server's close.
    stalled.resume();
    await stalledClosed;
  });
}

test("npm start: 10,000 streams opened and closed in waves leave no listener, subscription or growth behind", async () => {
  test.setTimeout(180_000);
  const redis = new Redis(testEnv("TEST_REDIS_URL"));
  const inspector = await connectInspector(app.output());
  // Read after a full collection: the JS heap plus buffers outside it, which is what a
  // leak grows, and RSS, which V8 returns to the system only in part.
  const memoryKb = async () => {
    const { heapUsed, external, rss } =
      await inspector.evaluateAfterGc<NodeJS.MemoryUsage>("process.memoryUsage()");
    return { retained: Math.round((heapUsed + external) / 1024), rss: Math.round(rss / 1024) };
  };
  const start = await memoryKb();
  const prefix = uniqueChannel("wave");
  const before = await health();
  const waves = 10;
  const perWave = 1000;
  const afterWave: Array<{ retained: number; rss: number }> = [];
  for (let wave = 0; wave < waves; wave++) {
    const streams: TestStream[] = [];
    for (let i = 0; i < perWave; i += 100) {
      streams.push(
        ...(await Promise.all(
          Array.from({ length: 100 }, (_, k) =>
            openStream(`${app.url}/stream?channel=${prefix}-${(i + k) % 50}`),
          ),
        )),
      );
    }
    expect(streams.every((s) => s.response.status === 200)).toBe(true);
    for (const s of streams) s.close();
    await expect
      .poll(async () => (await health()).streams, { timeout: 30_000 })
      .toBe(before.streams);
    afterWave.push(await memoryKb());
  }
  inspector.close();
  const after = await health();
  expect(after.listeners).toBe(before.listeners);
  const channels = Array.from({ length: 50 }, (_, i) => `${prefix}-${i}`);
  const numsub = (await redis.pubsub("NUMSUB", ...channels.map((c) => `sse:{${c}}`))) as Array<
    string | number
  >;
  expect(numsub.filter((_, i) => i % 2 === 1).map(Number)).toEqual(channels.map(() => 0));
  console.log(
    `leak check (kB, after GC): start ${JSON.stringify(start)}, after each wave ${JSON.stringify(afterWave)}`,
  );
  // Measured here: the first wave adds about 10 MB of heap and 17 MB of RSS (compiled
  // code, caches), then both stay within 3 MB of it. A leak of 1 kB per stream would
  // retain 9 MB over the 9,000 streams after the first wave.
  const first = afterWave[0];
  const last = afterWave[waves - 1];
  expect(last.retained - first.retained).toBeLessThan(9 * 1024);
  expect(last.retained - start.retained).toBeLessThan(24 * 1024);
  expect(last.rss - first.rss).toBeLessThan(24 * 1024);
  expect(last.rss - start.rss).toBeLessThan(48 * 1024);
  redis.disconnect();
});
