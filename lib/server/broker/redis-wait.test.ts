import { afterEach, expect, inject, it } from "vitest";
import { RedisBroker } from "@/lib/server/broker/redis";
import { isBrokerUnavailable } from "@/lib/server/broker/types";

const brokers: RedisBroker[] = [];
afterEach(async () => {
  await Promise.all(brokers.splice(0).map((broker) => broker.close()));
});

it("with SSE_REDIS_WAIT_REPLICAS, a publish no replica took is not acknowledged (503), and its retry is not a duplicate event", async () => {
  // The test Redis has no replica: WAIT 1 times out with 0.
  const broker = new RedisBroker({ url: inject("redisUrl"), timeoutMs: 400, waitReplicas: 1 });
  brokers.push(broker);
  const channel = `wait-${Date.now()}`;
  const started = Date.now();
  const failure = await broker.publish(channel, { body: "data: x\n", id: "once" }).catch((e) => e);
  expect(isBrokerUnavailable(failure)).toBe(true);
  expect((failure as Error).message).toBe("redis publish reached 0 of 1 replicas in time");
  expect(Date.now() - started).toBeLessThan(1000);
  // The event did reach the master: a retry with its id finds it there, once.
  const plain = new RedisBroker({ url: inject("redisUrl"), timeoutMs: 400 });
  brokers.push(plain);
  const retried = await plain.publish(channel, { body: "data: x\n", id: "once" });
  expect(retried.duplicate).toBe(true);
  expect((await plain.readSince(channel, "0-0")).entries).toHaveLength(1);
});

it("publishes waiting for replicas hold nothing else: a history read answers while they wait", async () => {
  // WAIT blocks its connection; with no replica it waits its full time (half of 400 ms).
  const broker = new RedisBroker({ url: inject("redisUrl"), timeoutMs: 400, waitReplicas: 1 });
  brokers.push(broker);
  const channel = `wait-others-${Date.now()}`;
  await broker.ping();
  const publishes = Promise.allSettled(
    [1, 2, 3, 4, 5].map((n) => broker.publish(channel, { body: `data: ${n}\n`, id: `p${n}` })),
  );
  const first = await Promise.race([
    broker.readSince(channel, "0-0").then(() => "history read"),
    publishes.then(() => "publishes"),
  ]);
  expect(first).toBe("history read");
  // All five were written (and will be retried by their publishers as 503s).
  const outcomes = await publishes;
  expect(outcomes.every((o) => o.status === "rejected")).toBe(true);
  expect((await broker.readSince(channel, "0-0")).entries).toHaveLength(5);
});
