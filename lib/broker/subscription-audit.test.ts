import { afterEach, describe, expect, inject, it } from "vitest";
import { RedisBroker } from "@/lib/broker/redis";
import { brokerCounters } from "@/lib/ops/counters";
import { historyOf } from "@/tests/support/broker-contract";

// Real Redis, plain and Cluster. The silent subscription is made the way a failover makes
// it: the server stops delivering while this process still believes the channel subscribed.
const brokers: RedisBroker[] = [];
afterEach(async () => {
  await Promise.all(brokers.splice(0).map((broker) => broker.close()));
});

async function until(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const cases = [
  ["Redis", () => ({ url: inject("redisUrl") })],
  ["Redis Cluster (sharded)", () => ({ clusterNodes: inject("clusterNodes") })],
] as const;

describe.each(cases)("subscription audit on %s", (_name, connection) => {
  it("finds a subscription that stopped delivering, subscribes again and lets streams catch up", async () => {
    const broker = new RedisBroker({ ...connection(), timeoutMs: 2000, auditMs: 300 });
    brokers.push(broker);
    const channel = `audit-${Date.now()}-${Math.random().toString(36).slice(2)}`;
    const repairs = brokerCounters().subscriptionRepairs;
    const got: string[] = [];
    let recovered = 0;
    const phases: string[] = [];
    broker.onRecover((phase) => {
      phases.push(phase);
      if (phase === "restored") recovered++;
    });
    await broker.subscribe(channel, (frame) => got.push(Buffer.from(frame).toString()));
    await broker.publish(channel, { body: "data: 1\n" });
    await until(() => got.length === 1);
    // Behind the broker's back, as a failover would: the server-side subscription is gone.
    type Unsubscribe = (channel: string) => Promise<unknown>;
    const { subscriber } = (
      broker as unknown as {
        subscriptions: { subscriber: { unsubscribe: Unsubscribe; sunsubscribe: Unsubscribe } };
      }
    ).subscriptions;
    const target = broker.names.pubsub(channel);
    await ("clusterNodes" in connection()
      ? subscriber.sunsubscribe(target)
      : subscriber.unsubscribe(target));
    await broker.publish(channel, { body: "data: 2\n" });
    // Quiet, probed, probe missing, repaired; then live events flow again.
    await until(() => brokerCounters().subscriptionRepairs === repairs + 1);
    await until(() => recovered > 0);
    // Streams were told to hold live events before the channel was subscribed again.
    expect(phases.slice(0, 2)).toEqual(["lost", "restored"]);
    await broker.publish(channel, { body: "data: 3\n" });
    await until(() => got.some((frame) => frame.startsWith("data: 3")));
    // Event 2 is not lost: the streams' catch-up (onRecover) reads it from history.
    const replay = await historyOf(broker).readSince(channel, /id: (\S+)/.exec(got[0])?.[1]);
    expect(replay.entries.map((e) => Buffer.from(e.frame).toString().split("\n")[0])).toEqual([
      "data: 2",
      "data: 3",
    ]);
    // Probes never reach listeners.
    expect(got.every((frame) => frame.startsWith("data: "))).toBe(true);
  });

  it("leaves a channel that passes messages alone", async () => {
    const broker = new RedisBroker({ ...connection(), timeoutMs: 2000, auditMs: 200 });
    brokers.push(broker);
    const channel = `audit-ok-${Date.now()}`;
    const repairs = brokerCounters().subscriptionRepairs;
    const got: string[] = [];
    await broker.subscribe(channel, (frame) => got.push(Buffer.from(frame).toString()));
    for (let i = 0; i < 8; i++) {
      await broker.publish(channel, { body: `data: ${i}\n` });
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    // Quiet for a while too: probed, and the probes come back.
    await new Promise((resolve) => setTimeout(resolve, 800));
    expect(brokerCounters().subscriptionRepairs).toBe(repairs);
    expect(got).toHaveLength(8);
  });
});
