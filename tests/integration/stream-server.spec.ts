import { expect, test } from "@playwright/test";
import { publishViaApi, TEST_PUBLISH_TOKEN, testEnv, uniqueChannel } from "../support/env";
import { startStreamServer } from "../support/next-server";
import { openStream } from "../support/sse-client";

// The plain Node stream server. The stream, resume and access tests run against it as
// well as against `next start`; these cover what is its own: routes, health and metrics,
// graceful shutdown, and refusing to start without Redis or with a bad setting.
const streamServer = () => testEnv("STREAM_SERVER_URL");
const health = async () => (await fetch(`${streamServer()}/api/health`)).json();

test("answers its own routes only, with JSON errors, and HEAD without opening a stream", async () => {
  const notFound = await fetch(`${streamServer()}/api/publish`, { method: "POST" });
  expect(notFound.status).toBe(404);
  expect((await notFound.json()).error).toEqual({
    code: "not_found",
    message: "this server answers /stream, /api/health and /api/metrics only",
  });
  const wrongMethod = await fetch(`${streamServer()}/stream`, { method: "DELETE" });
  expect(wrongMethod.status).toBe(405);
  expect((await wrongMethod.json()).error.code).toBe("method_not_allowed");
  const before = (await health()).streams;
  const head = await fetch(`${streamServer()}/stream?channel=head-check`, { method: "HEAD" });
  expect(head.status).toBe(200);
  expect(head.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
  expect((await health()).streams).toBe(before);
});

test("health and metrics count the server's own streams", async () => {
  const before = await health();
  expect(before).toMatchObject({ status: "ok", broker: "redis" });
  const s = await openStream(`${streamServer()}/stream?channel=${uniqueChannel()}`);
  expect((await health()).streams).toBe(before.streams + 1);
  const metrics = await fetch(`${streamServer()}/api/metrics`);
  expect(metrics.headers.get("content-type")).toContain("text/plain");
  expect(await metrics.text()).toMatch(/^sse_open_streams [1-9]\d*$/m);
  s.close();
  await expect.poll(async () => (await health()).streams).toBe(before.streams);
});

test("SIGTERM ends its streams with a retry hint; the client resumes on next start", async () => {
  const own = await startStreamServer({
    SSE_REDIS_URL: testEnv("TEST_REDIS_URL"),
    SSE_SHUTDOWN_TIMEOUT_MS: "3000",
  });
  const channel = uniqueChannel("drain");
  const s = await openStream(`${own.url}/stream?channel=${channel}`);
  await publishViaApi({ channel, data: "before" });
  await s.waitForEvents(1);
  const exited = own.stop("SIGTERM");
  await s.ended;
  expect(s.raw()).toMatch(/: reconnect\nretry: 0\n\n$/);
  await publishViaApi({ channel, data: "during" });
  const resumed = await openStream(`${testEnv("APP_URL")}/stream?channel=${channel}`, {
    "Last-Event-ID": s.lastEventId ?? "",
  });
  expect((await resumed.waitForEvents(1)).map((e) => e.data)).toEqual(["during"]);
  expect(await exited).toBe(143);
  resumed.close();
});

test("refuses to start without Redis, or with an invalid setting, saying why", async () => {
  await expect(startStreamServer({ SSE_PUBLISH_TOKEN: TEST_PUBLISH_TOKEN })).rejects.toThrow(
    /stream server exited:[\s\S]*through Redis: set SSE_REDIS_URL/,
  );
  await expect(
    startStreamServer({ SSE_REDIS_URL: testEnv("TEST_REDIS_URL"), SSE_HEARTBEAT_MS: "soon" }),
  ).rejects.toThrow(/stream server exited:[\s\S]*SSE_HEARTBEAT_MS/);
});
