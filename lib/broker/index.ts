import "server-only";
import { MemoryBroker } from "@/lib/broker/memory";
import { RedisBroker } from "@/lib/broker/redis";
import type { Broker } from "@/lib/broker/types";
import { getConfig } from "@/lib/config";
import { singleton } from "@/lib/ops/singleton";

export {
  type Broker,
  BrokerUnavailableError,
  type FrameListener,
  isBrokerUnavailable,
  type PublishResult,
} from "@/lib/broker/types";

/** Builds the broker the configuration asks for: Redis Cluster, Sentinel, Redis, else in-memory. */
export function createBroker(): Broker {
  const config = getConfig();
  const history = {
    maxLength: config.historyMaxLength,
    ttlSeconds: config.historyTtlSeconds,
    keepLast: config.historyKeepLast,
    idleTtlSeconds: config.historyIdleTtlSeconds,
  };
  const redis = {
    timeoutMs: config.redisTimeoutMs,
    history,
    prefix: config.keyPrefix,
    flaskSse: config.flaskSse,
    auditMs: config.redisAuditMs,
    waitReplicas: config.redisWaitReplicas,
  };
  if (config.redisClusterNodes !== undefined) {
    return new RedisBroker({ clusterNodes: config.redisClusterNodes, ...redis });
  }
  if (config.redisSentinels !== undefined) {
    const sentinels = { nodes: config.redisSentinels, master: config.redisSentinelMaster };
    return new RedisBroker({ sentinels, ...redis });
  }
  if (config.redisUrl === undefined) {
    console.info(
      "[next-sse] no SSE_REDIS_URL or REDIS_URL: using the in-memory broker (one process only)",
    );
    return new MemoryBroker(history);
  }
  return new RedisBroker({ url: config.redisUrl, ...redis });
}

/** The process's broker, created on first use and shared by every route. */
export function getBroker(): Broker {
  // One per process, whichever bundle asks: `next dev` reloads reuse its connections.
  return singleton("broker", createBroker);
}
