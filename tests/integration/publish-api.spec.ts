import { expect, test } from "@playwright/test";
import {
  mintTestToken,
  publishViaApi,
  STREAM_SERVERS,
  TEST_PUBLISH_TOKEN,
  testEnv,
  uniqueChannel,
} from "../support/env";
import { startServer } from "../support/next-server";
import { getFreePort } from "../support/ports";
import { openStream } from "../support/sse-client";

const errorOf = async (response: Response) => (await response.json()).error;

test("publishes to a channel and answers the event id and receivers", async () => {
  const channel = uniqueChannel();
  const s = await openStream(`${testEnv("APP_URL")}/stream?channel=${channel}`);
  const response = await publishViaApi({ channel, data: { n: 1 }, type: "update", retry: 2500 });
  expect(response.status).toBe(200);
  const body = await response.json();
  expect(body.receivers).toBe(1);
  expect(body.events).toEqual([
    { channel, id: expect.stringMatching(/^\d+-\d+$/), receivers: 1, duplicate: false },
  ]);
  const [event] = await s.waitForEvents(1);
  expect(event).toEqual({ event: "update", data: '{"n":1}', id: body.events[0].id });
  expect(s.retry).toBe(2500);
  s.close();
});

test("a channel token publishes to the channels its publish claim names, and nowhere else", async () => {
  const [room, other] = [uniqueChannel("room"), uniqueChannel("other")];
  const s = await openStream(`${testEnv("APP_URL")}/stream?channel=${room}`);
  const holder = mintTestToken([room], 60, undefined, { sub: "u1", publish: [room] });
  const sent = await publishViaApi({ channel: room, data: "hi" }, { token: holder });
  expect(sent.status).toBe(200);
  expect((await s.waitForEvents(1))[0].data).toBe("hi");
  s.close();
  const elsewhere = await publishViaApi({ channels: [room, other], data: "x" }, { token: holder });
  expect(elsewhere.status).toBe(403);
  expect(await errorOf(elsewhere)).toEqual({
    code: "publish_forbidden",
    message: `the token does not allow publishing to ${other}`,
  });
  const readOnly = await publishViaApi(
    { channel: room, data: "x" },
    { token: mintTestToken([room], 60) },
  );
  expect((await errorOf(readOnly)).code).toBe("publish_forbidden");
  const expired = await publishViaApi(
    { channel: room, data: "x" },
    { token: mintTestToken([room], -60, undefined, { publish: [room] }) },
  );
  expect(expired.status).toBe(401);
  expect((await errorOf(expired)).code).toBe("token_expired");
});

test("publishes one event to several channels", async () => {
  const [a, b] = [uniqueChannel("a"), uniqueChannel("b")];
  const response = await publishViaApi({ channels: [a, b], data: "x" });
  const body = await response.json();
  expect(body.events.map((e: { channel: string }) => e.channel)).toEqual([a, b]);
  expect(body.receivers).toBe(0);
});

test("delivers a publisher id once (idempotency key)", async () => {
  const channel = uniqueChannel();
  const first = await (await publishViaApi({ channel, data: 1, id: "job-42" })).json();
  const again = await (await publishViaApi({ channel, data: 1, id: "job-42" })).json();
  expect(again.events[0]).toEqual({ ...first.events[0], receivers: 0, duplicate: true });
});

test("400 names the invalid field, and injection attempts are refused", async () => {
  const cases: Array<[unknown, string, RegExp]> = [
    [{ channel: "x" }, "invalid_data", /data/],
    [{ data: 1, type: "a\nevent: forged" }, "invalid_type", /CR, LF or NUL/],
    [{ data: 1, id: "1\n\ndata: forged" }, "invalid_id", /CR, LF or NUL/],
    [{ data: 1, type: "a\rb" }, "invalid_type", /CR, LF or NUL/],
    [{ data: 1, retry: -1 }, "invalid_retry", /retry/],
    [{ data: 1, channel: "bad name" }, "invalid_channel", /channel/],
    [{ data: 1, surprise: true }, "invalid_body", /unknown field "surprise"/],
  ];
  for (const [body, code, message] of cases) {
    const response = await publishViaApi(body);
    expect(response.status, JSON.stringify(body)).toBe(400);
    const error = await errorOf(response);
    expect(error.code).toBe(code);
    expect(error.message).toMatch(message);
  }
  const broken = await publishViaApi("{not json");
  expect(broken.status).toBe(400);
  expect((await errorOf(broken)).code).toBe("invalid_json");
});

test("401 without a token, 403 with a wrong one", async () => {
  const missing = await publishViaApi({ data: 1 }, { token: null });
  expect(missing.status).toBe(401);
  expect(missing.headers.get("www-authenticate")).toContain("Bearer");
  expect((await errorOf(missing)).code).toBe("unauthorized");
  const wrong = await publishViaApi({ data: 1 }, { token: "not-the-token-at-all" });
  expect(wrong.status).toBe(403);
  expect((await errorOf(wrong)).code).toBe("forbidden");
});

test("413 over the body limit, 415 for a body that is not JSON", async () => {
  const big = await publishViaApi({ data: "x".repeat(70 * 1024) });
  expect(big.status).toBe(413);
  expect((await errorOf(big)).message).toMatch(/65536 bytes/);
  const text = await publishViaApi("data=1", { headers: { "Content-Type": "text/plain" } });
  expect(text.status).toBe(415);
  expect((await errorOf(text)).code).toBe("unsupported_media_type");
});

test("404 saying how to turn it on when no token is configured", async () => {
  const response = await publishViaApi({ data: 1 }, { base: testEnv("MEMORY_APP_URL") });
  expect(response.status).toBe(404);
  expect((await errorOf(response)).message).toMatch(/SSE_PUBLISH_TOKEN/);
});

test("503 when Redis is down says the outcome is unknown, and names no internals", async () => {
  const viaNext = await startServer("next start", {
    SSE_REDIS_URL: `redis://127.0.0.1:${await getFreePort()}`,
    SSE_REDIS_TIMEOUT_MS: "1000",
    SSE_PUBLISH_TOKEN: TEST_PUBLISH_TOKEN,
  });
  try {
    for (const base of [testEnv("DOWN_APP_URL"), viaNext.url]) await expectUnknownOutcome(base);
  } finally {
    await viaNext.stop();
  }
});

async function expectUnknownOutcome(base: string): Promise<void> {
  const response = await publishViaApi({ data: 1 }, { base });
  expect(response.status).toBe(503);
  expect(Number(response.headers.get("retry-after"))).toBeGreaterThanOrEqual(5);
  const error = await errorOf(response);
  expect(error.code).toBe("broker_unavailable");
  expect(error.message).toMatch(/may or may not have been published; retry with the same id/);
  // Redis's own words (errors, script hashes, timeouts) stay in the server's log.
  expect(error.message).not.toMatch(/redis|ERR|timed out|ECONNREFUSED|[0-9a-f]{40}/i);
}

for (const server of STREAM_SERVERS) {
  test(`${server.name}: 400 for data nested deeper than the limit, not a 500`, async () => {
    // Written out by hand: JSON.stringify itself overflows on 5000 levels.
    const deep = `{"channel":"nested","data":${"[".repeat(5000)}1${"]".repeat(5000)}}`;
    const response = await publishViaApi(deep, { base: server.url() });
    expect(response.status).toBe(400);
    expect(await errorOf(response)).toEqual({
      code: "invalid_data",
      message: "data: nested deeper than 64 levels",
    });
    let fine: unknown = 1;
    for (let i = 0; i < 60; i++) fine = { a: fine };
    expect(
      (await publishViaApi({ channel: "nested", data: fine }, { base: server.url() })).status,
    ).toBe(200);
  });

  test(`${server.name}: 400 for the event types the server sends itself`, async () => {
    for (const type of ["reset", "position"]) {
      const response = await publishViaApi(
        { channel: "reserved", data: 1, type },
        { base: server.url() },
      );
      expect(response.status).toBe(400);
      const error = await errorOf(response);
      expect(error.code).toBe("invalid_type");
      expect(error.message).toMatch(/reserved/);
    }
  });
}
