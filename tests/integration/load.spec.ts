import { connect } from "node:net";
import { expect, test } from "@playwright/test";
import { Redis } from "ioredis";
import { publishViaApi, TEST_PUBLISH_TOKEN, testEnv, uniqueChannel } from "../support/env";
import { connectInspector } from "../support/inspector";
import { startNextServer, type TestServer } from "../support/next-server";
import { openStream, type TestStream } from "../support/sse-client";

// Bounded load tests on loopback: they check behaviour (drops, releases), not timings.
// They count streams and listeners, so they get a server of their own.
let app: TestServer;
test.beforeAll(async () => {
  // The inspector lets the leak check collect garbage before it reads the heap.
  app = await startNextServer(
    { SSE_REDIS_URL: testEnv("TEST_REDIS_URL"), SSE_PUBLISH_TOKEN: TEST_PUBLISH_TOKEN },
    { nodeArgs: ["--inspect=127.0.0.1:0"] },
  );
});
test.afterAll(() => app?.stop());
test.describe.configure({ mode: "serial" });

const health = async () => (await fetch(`${app.url}/api/health`)).json();

test("HEAD answers like GET without opening a stream", async () => {
  const before = (await health()).streams;
  for (let i = 0; i < 3; i++) {
    const response = await fetch(`${app.url}/stream?channel=head-check`, { method: "HEAD" });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
  }
  expect((await fetch(`${app.url}/stream?channel=bad%20name`, { method: "HEAD" })).status).toBe(
    400,
  );
  expect((await health()).streams).toBe(before);
});

test("a client that stops reading is dropped past its backlog; the others get every event", async () => {
  test.setTimeout(90_000);
  const channel = uniqueChannel("slow");
  const url = new URL(`${app.url}/stream?channel=${channel}`);
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
  await expect.poll(async () => (await health()).listeners).toBeGreaterThanOrEqual(4);
  const dropsBefore = (await health()).slowConsumerDrops;

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
  expect((await health()).slowConsumerDrops).toBe(dropsBefore + 1);
  // Once it reads again it gets what the kernel held, then the server's close.
  stalled.resume();
  await stalledClosed;
});

test("10,000 streams opened and closed in waves leave no listener, subscription or growth behind", async () => {
  test.setTimeout(180_000);
  const redis = new Redis(testEnv("TEST_REDIS_URL"));
  const inspector = await connectInspector(app.output());
  // What the process holds once garbage is collected: JS heap plus buffers outside it.
  const retainedKb = async () => {
    const { heapUsed, external } =
      await inspector.evaluateAfterGc<NodeJS.MemoryUsage>("process.memoryUsage()");
    return Math.round((heapUsed + external) / 1024);
  };
  const prefix = uniqueChannel("wave");
  const before = await health();
  const waves = 10;
  const perWave = 1000;
  const retainedAfterWave: number[] = [];
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
    retainedAfterWave.push(await retainedKb());
  }
  inspector.close();
  const after = await health();
  expect(after.listeners).toBe(before.listeners);
  const channels = Array.from({ length: 50 }, (_, i) => `${prefix}-${i}`);
  const numsub = (await redis.pubsub("NUMSUB", ...channels)) as Array<string | number>;
  expect(numsub.filter((_, i) => i % 2 === 1).map(Number)).toEqual(channels.map(() => 0));
  // After a full collection the heap comes back to where it was; the first wave warms
  // caches and compiled code, so growth is counted from the second. A leak of even
  // 1 kB per stream would retain 9 MB over the 9,000 streams that follow.
  console.log(`leak check: heap+external after each wave (kB): ${retainedAfterWave.join(", ")}`);
  expect(retainedAfterWave[waves - 1] - retainedAfterWave[1]).toBeLessThan(9 * 1024);
  redis.disconnect();
});
