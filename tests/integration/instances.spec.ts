import { expect, test } from "@playwright/test";
import {
  expectResumeAcrossInstances,
  mintTestToken,
  publishViaApi,
  TEST_PUBLISH_TOKEN,
  TEST_SECRET,
  testEnv,
  uniqueChannel,
} from "../support/env";
import { startAppServer, type TestServer } from "../support/next-server";
import { openStream } from "../support/sse-client";

// Two `npm start` instances on one Redis, as behind a load balancer.
let a: TestServer;
let b: TestServer;
const METRICS_TOKEN = "test-metrics-token-0123456789";

test.describe.configure({ mode: "serial" });
test.beforeAll(async () => {
  const env = {
    SSE_REDIS_URL: testEnv("TEST_REDIS_URL"),
    SSE_PUBLISH_TOKEN: TEST_PUBLISH_TOKEN,
    SSE_METRICS_TOKEN: METRICS_TOKEN,
    SSE_SECRET: TEST_SECRET,
    SSE_SHUTDOWN_TIMEOUT_MS: "5000",
  };
  [a, b] = await Promise.all([startAppServer(env), startAppServer(env)]);
});
test.afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
});

const subscribers = async (server: TestServer, channel: string) =>
  (await (await fetch(`${server.url}/api/channels/${channel}`)).json()).subscribers;

test("a publish through one instance reaches the streams of every instance", async () => {
  const channel = uniqueChannel("multi");
  const [onA, onB] = await Promise.all([
    openStream(`${a.url}/stream?channel=${channel}`),
    openStream(`${b.url}/stream?channel=${channel}`),
  ]);
  const response = await publishViaApi({ channel, data: "to all" }, { base: a.url });
  expect((await response.json()).receivers).toBe(2);
  expect((await onA.waitForEvents(1))[0].data).toBe("to all");
  expect((await onB.waitForEvents(1))[0].data).toBe("to all");
  onA.close();
  onB.close();
});

test("a client that moves to another instance resumes from the id it saw", async () => {
  await expectResumeAcrossInstances(a.url, b.url);
});

test("presence counts a channel's subscribers across instances, and drops them as they leave", async () => {
  const channel = uniqueChannel("presence");
  expect(await subscribers(a, channel)).toBe(0);
  const streams = await Promise.all([
    openStream(`${a.url}/stream?channel=${channel}`),
    openStream(`${a.url}/stream?channel=${channel}`),
    openStream(`${b.url}/stream?channel=${channel}`),
  ]);
  await expect.poll(() => subscribers(a, channel)).toBe(3);
  expect(await subscribers(b, channel)).toBe(3);
  streams[0].close();
  streams[2].close();
  await expect.poll(() => subscribers(b, channel)).toBe(1);
  streams[1].close();
  await expect.poll(() => subscribers(a, channel)).toBe(0);
  const bad = await fetch(`${a.url}/api/channels/not%20valid`);
  expect(bad.status).toBe(400);
  const secret = await fetch(`${a.url}/api/channels/private-room`);
  expect(secret.status).toBe(401);
});

test("health says whether the broker answers", async () => {
  const response = await fetch(`${a.url}/api/health`);
  expect(response.status).toBe(200);
  expect(await response.json()).toMatchObject({ status: "ok", broker: "redis" });
  const down = await fetch(`${testEnv("DOWN_APP_URL")}/api/health`);
  expect(down.status).toBe(503);
  expect(await down.json()).toMatchObject({ status: "unavailable", reason: expect.any(String) });
});

test("metrics in Prometheus format, behind the metrics token", async () => {
  const channel = uniqueChannel("metrics");
  const s = await openStream(`${a.url}/stream?channel=${channel}`);
  // A private channel's name says who is online: it is never a label.
  const secret = uniqueChannel("private-user");
  const hidden = await openStream(
    `${a.url}/stream?channel=${secret}&token=${mintTestToken([secret], 60)}`,
  );
  expect(hidden.response.status).toBe(200);
  await publishViaApi({ channel, data: "counted" }, { base: a.url });
  await s.waitForEvents(1);
  await fetch(`${a.url}/stream?channel=bad%20name`);
  expect((await fetch(`${a.url}/api/metrics`)).status).toBe(401);
  const response = await fetch(`${a.url}/api/metrics`, {
    headers: { Authorization: `Bearer ${METRICS_TOKEN}` },
  });
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toContain("text/plain");
  const text = await response.text();
  expect(text).toMatch(/^sse_open_streams [1-9]/m);
  expect(text).toContain(`sse_channel_subscribers{channel="${channel}"} 1`);
  expect(text).not.toContain(secret);
  expect(text).toMatch(/^sse_channel_subscribers\{channel="\(private\)"\} [1-9]/m);
  hidden.close();
  expect(text).toMatch(/^sse_events_published_total [1-9]/m);
  expect(text).toMatch(/^sse_events_delivered_total [1-9]/m);
  expect(text).toMatch(/^sse_rejected_requests_total\{reason="invalid_channel"\} [1-9]/m);
  for (const name of [
    "sse_events_replayed_total",
    "sse_slow_consumer_drops_total",
    "sse_broker_reconnects_total",
    "sse_redis_subscription_repairs_total",
  ]) {
    expect(text).toContain(`# TYPE ${name} counter`);
  }
  s.close();
});

test("disconnect({ sub }) on one instance ends that user's streams on the other within a second, and refuses its older tokens", async () => {
  const channel = uniqueChannel("private-revoke");
  const sub = `user-${Date.now()}`;
  const old = mintTestToken([channel], 600, undefined, { sub, iat: Math.floor(Date.now() / 1000) });
  const other = mintTestToken([channel], 600, undefined, { sub: `${sub}-other` });
  const onB = await openStream(`${b.url}/stream?channel=${channel}`, {
    Authorization: `Bearer ${old}`,
  });
  const bystander = await openStream(`${b.url}/stream?channel=${channel}`, {
    Authorization: `Bearer ${other}`,
  });
  expect(onB.response.status).toBe(200);
  const revoke = (body: unknown, token = TEST_PUBLISH_TOKEN) =>
    fetch(`${a.url}/api/disconnect`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` },
      body: JSON.stringify(body),
    });
  expect((await revoke({ sub }, "not-the-publish-token")).status).toBe(403);
  expect((await revoke({ sub: 42 })).status).toBe(400);
  const started = Date.now();
  const response = await revoke({ sub });
  expect(response.status).toBe(200);
  await onB.ended;
  expect(Date.now() - started).toBeLessThan(1500);
  expect(onB.raw()).toMatch(
    /event: end\ndata: \{"reason":"token_revoked"\}\n\n: reconnect\nretry: \d+\n\n$/,
  );
  // Someone else's stream stays.
  await publishViaApi({ channel, data: "still here" }, { base: b.url });
  expect((await bystander.waitForEvents(1))[0].data).toBe("still here");
  bystander.close();
  // The old token is refused everywhere; one minted after the revocation works.
  for (const server of [a, b]) {
    const again = await fetch(`${server.url}/stream?channel=${channel}`, {
      headers: { Authorization: `Bearer ${old}` },
    });
    expect(again.status).toBe(403);
    expect((await again.json()).error.code).toBe("token_revoked");
  }
  // iat counts whole seconds: a token of the next second is after the revocation.
  await new Promise((resolve) => setTimeout(resolve, 1100 - (Date.now() % 1000)));
  const fresh = mintTestToken([channel], 600, undefined, {
    sub,
    iat: Math.floor(Date.now() / 1000),
  });
  const reopened = await openStream(`${b.url}/stream?channel=${channel}`, {
    Authorization: `Bearer ${fresh}`,
  });
  expect(reopened.response.status).toBe(200);
  reopened.close();
});

test("members of a private channel across instances: a user with tabs on both joins once and leaves with the last", async () => {
  const channel = uniqueChannel("private-room");
  const token = (claims: Record<string, unknown>) => ({
    Authorization: `Bearer ${mintTestToken([channel], 600, undefined, claims)}`,
  });
  const ann = token({ sub: "ann", presence: { name: "Ann" } });
  // No `sub`: it watches the members without being one.
  const watcher = await openStream(`${a.url}/stream?channel=${channel}&members=1`, token({}));
  expect(watcher.response.status).toBe(200);
  const changes = () =>
    watcher.events.filter((e) => e.event === "members").map((e) => JSON.parse(e.data));
  const annOnA = await openStream(`${a.url}/stream?channel=${channel}`, ann);
  const annOnB = await openStream(`${b.url}/stream?channel=${channel}`, ann);
  const bob = await openStream(`${b.url}/stream?channel=${channel}`, token({ sub: "bob" }));
  await expect.poll(() => changes().length).toBe(2);
  expect(changes()).toEqual([
    { channel, action: "join", sub: "ann", info: { name: "Ann" } },
    { channel, action: "join", sub: "bob" },
  ]);
  for (const server of [a, b]) {
    const response = await fetch(`${server.url}/api/channels/${channel}/members`, {
      headers: token({}),
    });
    expect(await response.json()).toEqual({
      channel,
      members: [{ sub: "ann", info: { name: "Ann" } }, { sub: "bob" }],
    });
  }
  // Ann closes her tab on A: B still holds her. Carol comes and goes on A after that, so her
  // events say A has reported Ann's tab gone.
  annOnA.close();
  const carol = await openStream(`${a.url}/stream?channel=${channel}`, token({ sub: "carol" }));
  await expect.poll(() => changes().length).toBe(3);
  carol.close();
  await expect.poll(() => changes().length).toBe(4);
  annOnB.close();
  bob.close();
  await expect.poll(() => changes().length).toBe(6);
  expect(changes().slice(2, 4)).toEqual([
    { channel, action: "join", sub: "carol" },
    { channel, action: "leave", sub: "carol" },
  ]);
  expect(changes().slice(4)).toEqual(
    expect.arrayContaining([
      { channel, action: "leave", sub: "ann", info: { name: "Ann" } },
      { channel, action: "leave", sub: "bob" },
    ]),
  );
  const after = await fetch(`${b.url}/api/channels/${channel}/members`, { headers: token({}) });
  expect((await after.json()).members).toEqual([]);
  watcher.close();
});

test("members: private channels only, with the channel's token", async () => {
  const channel = uniqueChannel("private-room");
  const refused = async (url: string, headers: Record<string, string> = {}) => {
    const response = await fetch(url, { headers });
    return [response.status, (await response.json()).error.code];
  };
  const bearer = { Authorization: `Bearer ${mintTestToken([channel], 600)}` };
  expect(await refused(`${a.url}/api/channels/${channel}/members`)).toEqual([
    401,
    "token_required",
  ]);
  expect(await refused(`${a.url}/api/channels/public-room/members`)).toEqual([
    400,
    "invalid_channel",
  ]);
  expect(await refused(`${a.url}/stream?channel=public-room&members=1`)).toEqual([
    400,
    "invalid_members",
  ]);
  expect(await refused(`${a.url}/stream?channel=${channel}&members=yes`, bearer)).toEqual([
    400,
    "invalid_members",
  ]);
  const oversized = mintTestToken([channel], 600, undefined, {
    sub: "ann",
    presence: { bio: "x".repeat(2000) },
  });
  expect(
    await refused(`${a.url}/stream?channel=${channel}`, { Authorization: `Bearer ${oversized}` }),
  ).toEqual([401, "token_claims"]);
});

test("SIGTERM ends A's streams with a retry hint; the client resumes on B without losing events", async () => {
  const channel = uniqueChannel("drain");
  const onA = await openStream(`${a.url}/stream?channel=${channel}`);
  await publishViaApi({ channel, data: "before" }, { base: b.url });
  await onA.waitForEvents(1);
  const started = Date.now();
  const exited = a.stop("SIGTERM");
  await onA.ended;
  expect(onA.raw()).toMatch(/: reconnect\nretry: \d+\n\n$/);
  // Published while the client is between instances.
  await publishViaApi({ channel, data: "during" }, { base: b.url });
  const onB = await openStream(`${b.url}/stream?channel=${channel}`, {
    "Last-Event-ID": onA.lastEventId ?? "",
  });
  await publishViaApi({ channel, data: "after" }, { base: b.url });
  expect((await onB.waitForEvents(2)).map((e) => e.data)).toEqual(["during", "after"]);
  expect(await exited).toBe(143);
  expect(Date.now() - started).toBeLessThan(8000);
  onB.close();
});
