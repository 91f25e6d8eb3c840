import { afterEach, expect, inject, it } from "vitest";
import { RedisBroker } from "@/lib/broker/redis";
import { isBrokerUnavailable } from "@/lib/broker/types";
import { historyOf } from "@/tests/support/broker-contract";

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
  expect((await historyOf(plain).readSince(channel, "0-0")).entries).toHaveLength(1);
});
