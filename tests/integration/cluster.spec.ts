import { expect, test } from "@playwright/test";
import { Redis } from "ioredis";
import {
  expectResumeAcrossInstances,
  publishViaApi,
  TEST_PUBLISH_TOKEN,
  uniqueChannel,
} from "../support/env";
import { startAppServer, type TestServer } from "../support/next-server";
import { startRedisCluster, type TestRedisCluster } from "../support/redis-cluster";
import { openStream } from "../support/sse-client";

// Two instances on a local three-master Redis Cluster this test starts itself.
let cluster: TestRedisCluster;
let a: TestServer;
let b: TestServer;

test.describe.configure({ mode: "serial" });
test.beforeAll(async () => {
  cluster = await startRedisCluster();
  const env = {
    SSE_REDIS_CLUSTER_NODES: cluster.nodes.join(","),
    SSE_PUBLISH_TOKEN: TEST_PUBLISH_TOKEN,
  };
  [a, b] = await Promise.all([startAppServer(env), startAppServer(env)]);
});
test.afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  await cluster?.stop();
});

test("publish through one instance reaches the other, on every shard", async () => {
  const channels = Array.from({ length: 6 }, () => uniqueChannel("shard"));
  const streams = await Promise.all(
    channels.map((c) => openStream(`${b.url}/stream?channel=${c}`)),
  );
  for (const channel of channels) {
    const response = await publishViaApi({ channel, data: channel }, { base: a.url });
    expect((await response.json()).receivers).toBe(1);
  }
  for (const [i, s] of streams.entries()) {
    expect((await s.waitForEvents(1))[0].data).toBe(channels[i]);
  }
  // The subscriptions are sharded (SSUBSCRIBE), each on the node that owns its channel's
  // slot, and the channels are spread over more than one node.
  const nodes = cluster.nodes.map((n) => new Redis(`redis://${n}`));
  const perNode = await Promise.all(
    nodes.map(async (n) => (await n.call("PUBSUB", "SHARDCHANNELS", "sse:{shard-*")) as string[]),
  );
  // next-sse's pub/sub channel for NAME is `sse:{NAME}`: same slot as NAME's keys.
  expect(perNode.flat().sort()).toEqual(channels.map((c) => `sse:{${c}}`).sort());
  expect(perNode.filter((list) => list.length > 0).length).toBeGreaterThan(1);
  for (const n of nodes) n.disconnect();
  for (const s of streams) s.close();
});

test("a client resumes on the other instance from the id it saw", async () => {
  await expectResumeAcrossInstances(a.url, b.url);
});

test("presence counts across instances on the cluster", async () => {
  const channel = uniqueChannel("cluster-presence");
  const streams = await Promise.all([
    openStream(`${a.url}/stream?channel=${channel}`),
    openStream(`${b.url}/stream?channel=${channel}`),
  ]);
  await expect
    .poll(async () => (await (await fetch(`${a.url}/api/channels/${channel}`)).json()).subscribers)
    .toBe(2);
  for (const s of streams) s.close();
});
