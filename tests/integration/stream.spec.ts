import { expect, test } from "@playwright/test";
import { Redis } from "ioredis";
import { STREAM_SERVERS, testEnv, uniqueChannel } from "../support/env";
import { startServer } from "../support/next-server";
import { openStream, type TestStream } from "../support/sse-client";

const app = () => testEnv("APP_URL");
let redis: Redis;
const open: TestStream[] = [];

test.beforeAll(() => {
  redis = new Redis(testEnv("TEST_REDIS_URL"));
});
test.afterAll(() => redis.disconnect());
test.afterEach(() => {
  for (const stream of open.splice(0)) stream.close();
});

async function stream(base = app, query = ""): Promise<TestStream> {
  const s = await openStream(`${base()}/stream${query}`);
  open.push(s);
  return s;
}

/** next-sse's pub/sub channel for a channel: its key prefix (`sse:`) and a hash tag. */
const pubsub = (channel: string) => `sse:{${channel}}`;
const numsub = async (channel: string) =>
  Number(((await redis.pubsub("NUMSUB", pubsub(channel))) as [string, number])[1]);

for (const server of STREAM_SERVERS) {
  test.describe(server.name, () => {
    const base = server.url;

    test("answers text/event-stream with anti-buffering headers and opens with a comment and retry", async () => {
      const s = await stream(base);
      expect(s.response.status).toBe(200);
      expect(s.response.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
      expect(s.response.headers.get("cache-control")).toBe("no-cache, no-transform");
      expect(s.response.headers.get("x-accel-buffering")).toBe("no");
      expect(s.response.headers.get("content-encoding")).toBeNull();
      await expect
        .poll(() => s.raw())
        .toMatch(
          /^: connected\n: heartbeat-ms=\d+\nretry: 3000\n\nevent: position\ndata: \nid: \d+-\d+\n\n$/,
        );
    });

    test("delivers event, multi-line data, id and retry published by another service", async () => {
      const channel = uniqueChannel();
      const s = await stream(base, `?channel=${channel}`);
      const envelope = { data: "line 1\nline 2", type: "update", id: 0, retry: 1500 };
      expect(await redis.publish(pubsub(channel), JSON.stringify(envelope))).toBe(1);
      const [event] = await s.waitForEvents(1);
      expect(event).toEqual({ event: "update", data: "line 1\nline 2", id: "0" });
      expect(s.retry).toBe(1500);
      expect(s.raw()).toContain(
        "event: update\ndata: line 1\ndata: line 2\nretry: 1500\nid: 0\n\n",
      );
    });

    test("keeps channels apart", async () => {
      const [a, b] = [uniqueChannel("a"), uniqueChannel("b")];
      const [sa, sb, sdefault] = await Promise.all([
        stream(base, `?channel=${a}`),
        stream(base, `?channel=${b}`),
        stream(base),
      ]);
      await redis.publish(pubsub(a), JSON.stringify({ data: "for a" }));
      await redis.publish(pubsub(b), JSON.stringify({ data: "for b" }));
      expect((await sa.waitForEvents(1)).map((e) => e.data)).toEqual(["for a"]);
      expect((await sb.waitForEvents(1)).map((e) => e.data)).toEqual(["for b"]);
      // A marker on each channel proves nothing else was in flight behind it.
      await redis.publish(pubsub(a), JSON.stringify({ data: "end" }));
      await redis.publish(pubsub("sse"), JSON.stringify({ data: "end" }));
      expect((await sa.waitForEvents(2)).map((e) => e.data)).toEqual(["for a", "end"]);
      expect((await sdefault.waitForEvents(1)).map((e) => e.data)).toEqual(["end"]);
    });

    test("shares one Redis subscription per channel and releases it when clients leave", async () => {
      const channel = uniqueChannel();
      const streams = await Promise.all(
        Array.from({ length: 5 }, () => stream(base, `?channel=${channel}`)),
      );
      expect(await numsub(channel)).toBe(1);
      expect(await redis.publish(pubsub(channel), JSON.stringify({ data: "x" }))).toBe(1);
      await Promise.all(streams.map((s) => s.waitForEvents(1)));
      for (const s of streams) s.close();
      await expect.poll(() => numsub(channel)).toBe(0);
    });

    test("rejects an invalid channel with 400 and a JSON error", async () => {
      for (const query of ["?channel=a%20b", `?channel=${"x".repeat(129)}`, "?channel="]) {
        const response = await fetch(`${base()}/stream${query}`);
        expect(response.status).toBe(400);
        const body = await response.json();
        expect(body.error.code).toBe("invalid_channel");
        expect(body.error.message).toMatch(/invalid channel/);
      }
    });
  });
}

for (const kind of ["npm start", "next start"] as const) {
  test(`${kind}: a bare-name PUBLISH (another app's channel, or Flask-SSE) reaches streams only with SSE_FLASK_SSE=on`, async () => {
    const channel = uniqueChannel("bare");
    const flask = await startServer(kind, {
      SSE_REDIS_URL: testEnv("TEST_REDIS_URL"),
      SSE_FLASK_SSE: "on",
    });
    try {
      const [plain, withFlask] = await Promise.all([
        stream(app, `?channel=${channel}`),
        openStream(`${flask.url}/stream?channel=${channel}`),
      ]);
      open.push(withFlask);
      // What flask_sse.sse.publish({"message": "Hi"}, type="greeting", channel=...) sends.
      await redis.publish(channel, JSON.stringify({ data: { message: "Hi" }, type: "greeting" }));
      await redis.publish(pubsub(channel), JSON.stringify({ data: "marker" }));
      expect((await withFlask.waitForEvents(2)).map((e) => e.data)).toEqual([
        '{"message":"Hi"}',
        "marker",
      ]);
      // Without the setting, the bare name is left to whoever owns it: only the marker.
      expect((await plain.waitForEvents(1)).map((e) => e.data)).toEqual(["marker"]);
    } finally {
      await flask.stop();
    }
  });
}

test("presence refuses an invalid channel in the path with 400 and a JSON error", async () => {
  for (const [path, message] of [
    ["a%20b", /invalid channel/],
    ["%ZZ", /not valid percent-encoding/],
  ] as const) {
    const response = await fetch(`${app()}/api/channels/${path}`);
    expect(response.status).toBe(400);
    const { error } = await response.json();
    expect(error.code).toBe("invalid_channel");
    expect(error.message).toMatch(message);
  }
});

test("/hello publishes the quickstart greeting on channel sse", async () => {
  const s = await stream();
  const hello = await fetch(`${app()}/hello`);
  expect(hello.status).toBe(200);
  expect(hello.headers.get("content-type")).toContain("text/plain");
  expect(await hello.text()).toBe("Message sent!");
  const [event] = await s.waitForEvents(1);
  expect(event.event).toBe("greeting");
  expect(JSON.parse(event.data)).toEqual({ message: "Hello!" });
});

test("answers 503 with a JSON error on /stream and /hello when Redis is down", async () => {
  const started = Date.now();
  const streamResponse = await fetch(`${testEnv("DOWN_APP_URL")}/stream`);
  expect(streamResponse.status).toBe(503);
  expect((await streamResponse.json()).error.code).toBe("broker_unavailable");
  const hello = await fetch(`${testEnv("DOWN_APP_URL")}/hello`);
  expect(hello.status).toBe(503);
  expect((await hello.json()).error.message).toMatch(/event broker unavailable/);
  expect(Date.now() - started).toBeLessThan(10_000);
});

test("serves the quickstart on the in-memory broker without Redis", async () => {
  const s = await openStream(`${testEnv("MEMORY_APP_URL")}/stream`);
  open.push(s);
  expect(await (await fetch(`${testEnv("MEMORY_APP_URL")}/hello`)).text()).toBe("Message sent!");
  const [event] = await s.waitForEvents(1);
  expect(event.event).toBe("greeting");
});
