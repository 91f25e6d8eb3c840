import { expect, test } from "@playwright/test";
import { TEST_PUBLISH_TOKEN } from "../support/env";
import { startAppServer, type TestServer } from "../support/next-server";
import { startRedisServer, type TestRedis } from "../support/redis-server";
import { openStream, type TestStream } from "../support/sse-client";

// Bounded chaos, loopback only: CLIENTS streams reconnect at random moments with their
// Last-Event-ID while a publisher sends RATE msg/s over 3 channels, and the test's own
// Redis (append-only, so history survives) is restarted once. Stops by itself.
const SECONDS = Number(process.env.CHAOS_SECONDS ?? 60);
const CLIENTS = Number(process.env.CHAOS_CLIENTS ?? 200);
const RATE = 50;
const CHANNELS = ["chaos-a", "chaos-b", "chaos-c"];

test.setTimeout((SECONDS + 120) * 1000);

let redis: TestRedis;
let app: TestServer;

test.beforeAll(async () => {
  redis = await startRedisServer(["--appendonly", "yes", "--appendfsync", "always"]);
  app = await startAppServer({
    SSE_REDIS_URL: redis.url,
    // Every client here is 127.0.0.1: no per-client stream limit (SSE_MAX_STREAMS_PER_CLIENT).
    SSE_MAX_STREAMS_PER_CLIENT: "0",
    SSE_PUBLISH_PER_MINUTE: "0",
    SSE_PUBLISH_TOKEN: TEST_PUBLISH_TOKEN,
    SSE_REDIS_TIMEOUT_MS: "1000",
  });
});

test.afterAll(async () => {
  await app?.stop();
  await redis?.stop();
});

interface ClientLog {
  channels: string[];
  seqs: Map<string, number[]>;
  reconnects: number;
  refused: number;
  resets: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function runClient(until: () => boolean, log: ClientLog): Promise<void> {
  const query = log.channels.map((c) => `channel=${c}`).join("&");
  let lastEventId: string | undefined;
  while (!until()) {
    let stream: TestStream;
    try {
      stream = await openStream(
        `${app.url}/stream?${query}`,
        lastEventId ? { "Last-Event-ID": lastEventId } : {},
      );
    } catch {
      log.refused++;
      await sleep(100);
      continue;
    }
    if (stream.response.status !== 200) {
      log.refused++;
      await stream.response.body?.cancel();
      await sleep(100);
      continue;
    }
    // Stay connected for a random while (the last client stays until the end).
    const lifetime = 300 + Math.random() * 4000;
    const deadline = Date.now() + lifetime;
    while (Date.now() < deadline && !until()) await Promise.race([stream.ended, sleep(50)]);
    stream.close();
    await stream.ended;
    for (const event of stream.events) {
      if (event.event === "reset") {
        log.resets++;
        continue;
      }
      const [channel, seq] = event.data.split(":");
      log.seqs.get(channel)?.push(Number(seq));
    }
    lastEventId = stream.lastEventId ?? lastEventId;
    log.reconnects++;
  }
}

test("200 clients reconnecting at random through a Redis restart lose and duplicate nothing", async () => {
  const started = Date.now();
  const sent = new Map(CHANNELS.map((c) => [c, 0]));
  let publishErrors = 0;
  let restarted = false;

  // One publisher per channel, each on its own schedule of RATE / 3 msg/s: a publish waits
  // for its answer (so a channel's order is the order sent), and a slow answer on one
  // channel does not hold back the others.
  const perChannelRate = RATE / CHANNELS.length;
  const publishers = CHANNELS.map(async (channel) => {
    for (let seq = 1; Date.now() - started <= SECONDS * 1000; seq++) {
      // A failed publish is retried with the same id (an idempotency key), so a publish
      // that reached Redis before its answer was lost is still delivered once.
      for (;;) {
        try {
          const response = await fetch(`${app.url}/api/publish`, {
            method: "POST",
            headers: {
              "Content-Type": "application/json",
              Authorization: `Bearer ${TEST_PUBLISH_TOKEN}`,
            },
            body: JSON.stringify({ channel, data: `${channel}:${seq}`, id: `${channel}-${seq}` }),
          });
          await response.arrayBuffer();
          if (response.ok) break;
        } catch {
          // connection refused while the app restarts its Redis connection
        }
        publishErrors++;
        await sleep(50);
      }
      sent.set(channel, seq);
      const due = started + (seq * 1000) / perChannelRate;
      await sleep(Math.max(0, due - Date.now()));
    }
  });

  const chaos = (async () => {
    await sleep((SECONDS * 1000) / 2);
    await redis.stop();
    await sleep(1000);
    await redis.restart();
    restarted = true;
  })();

  const logs: ClientLog[] = Array.from({ length: CLIENTS }, (_, i) => ({
    channels: i % 4 === 3 ? CHANNELS : [CHANNELS[i % 3]],
    seqs: new Map(CHANNELS.map((c) => [c, []])),
    reconnects: 0,
    refused: 0,
    resets: 0,
  }));
  const clientsDone = { value: false };
  const clients = logs.map((log) => runClient(() => clientsDone.value, log));

  await Promise.all(publishers);
  await chaos;
  // Let every client reconnect at least once more after the last publish, then stop.
  await sleep(5000);
  clientsDone.value = true;
  await Promise.all(clients);

  let lost = 0;
  let duplicated = 0;
  let outOfOrder = 0;
  let delivered = 0;
  for (const log of logs) {
    for (const channel of log.channels) {
      const seqs = log.seqs.get(channel) ?? [];
      delivered += seqs.length;
      if (seqs.length === 0) {
        lost += sent.get(channel) ?? 0;
        continue;
      }
      const unique = new Set(seqs);
      duplicated += seqs.length - unique.size;
      for (let i = 1; i < seqs.length; i++) if (seqs[i] <= seqs[i - 1]) outOfOrder++;
      // From a client's first event on, every later one must arrive.
      const first = Math.min(...seqs);
      const last = sent.get(channel) ?? 0;
      for (let seq = first; seq <= last; seq++) if (!unique.has(seq)) lost++;
    }
  }
  const figures = {
    seconds: Math.round((Date.now() - started) / 1000),
    clients: CLIENTS,
    published: [...sent.values()].reduce((a, b) => a + b, 0),
    publishedPerSecond: Math.round([...sent.values()].reduce((a, b) => a + b, 0) / SECONDS),
    publishRetries: publishErrors,
    delivered,
    reconnects: logs.reduce((a, l) => a + l.reconnects, 0),
    refusedWhileRedisDown: logs.reduce((a, l) => a + l.refused, 0),
    resets: logs.reduce((a, l) => a + l.resets, 0),
    lost,
    duplicated,
    outOfOrder,
    redisRestarted: restarted,
  };
  console.log(`chaos figures: ${JSON.stringify(figures)}`);
  expect(restarted).toBe(true);
  expect({ lost, duplicated, outOfOrder, resets: figures.resets }).toEqual({
    lost: 0,
    duplicated: 0,
    outOfOrder: 0,
    resets: 0,
  });
  expect(figures.reconnects).toBeGreaterThan(CLIENTS * 5);
});
