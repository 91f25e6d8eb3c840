import { describe, expect, it } from "vitest";
import { maxDuration } from "@/app/stream/route";
import { ConfigError, parseConfig, VERCEL_MAX_STREAM_SECONDS } from "@/lib/config";

describe("parseConfig", () => {
  it("uses defaults and the memory broker with an empty environment", () => {
    expect(parseConfig({})).toEqual({
      redisClusterNodes: undefined,
      redisUrl: undefined,
      redisSentinels: undefined,
      redisSentinelMaster: "mymaster",
      redisAuditMs: 3000,
      redisWaitReplicas: 0,
      redisTimeoutMs: 3000,
      retryMs: 3000,
      heartbeatMs: 15000,
      maxChannelsPerStream: 16,
      maxBacklogBytes: 1048576,
      maxReplayBytes: 8388608,
      maxRewind: 100,
      maxStreamSeconds: 0,
      publishToken: undefined,
      publishMaxBytes: 65536,
      historyMaxLength: 1000,
      historyTtlSeconds: 3600,
      historyKeepLast: 50,
      historyIdleTtlSeconds: 604800,
      maxConnections: 20000,
      maxChannelLength: 128,
      secret: undefined,
      previousSecret: undefined,
      jwksUrl: undefined,
      jwksCooldownMs: 30_000,
      jwksTimeoutMs: 5000,
      jwtPublicKey: undefined,
      jwtIssuer: undefined,
      jwtAudience: undefined,
      revocationTtlSeconds: 86_400,
      privatePrefix: "private-",
      tokenTtlSeconds: 3600,
      corsOrigins: [],
      metricsToken: undefined,
      shutdownTimeoutMs: 5000,
      drainSpreadMs: 2000,
      port: 3000,
      hostname: "0.0.0.0",
      workers: 1,
      bodyTimeoutMs: 10000,
      maxStreamsPerClient: 100,
      publishPerMinute: 60000,
      keyPrefix: "sse:",
      flaskSse: false,
      demo: true,
      demoPublishPerMinute: 30,
      aiModel: undefined,
      aiMockTokenMs: 30,
      aiAnswerTtlSeconds: 3600,
      aiMaxAnswerBytes: 1 << 20,
      aiFlushMs: 0,
      aiStoreMs: 1000,
      trustProxy: 0,
      fastPath: true,
      reauthorizeSeconds: 60,
    });
  });

  it("reads the production server's port, address and workers", () => {
    expect(parseConfig({ PORT: "8080", HOSTNAME: "127.0.0.1", SSE_WORKERS: "4" })).toMatchObject({
      port: 8080,
      hostname: "127.0.0.1",
      workers: 4,
    });
    expect(parseConfig({ SSE_WORKERS: "auto" }).workers).toBe("auto");
    expect(() => parseConfig({ SSE_WORKERS: "0" })).toThrow(/SSE_WORKERS/);
    expect(() => parseConfig({ SSE_WORKERS: "many" })).toThrow(/SSE_WORKERS/);
  });

  it("ends streams a little under Vercel's limit there, unless SSE_MAX_STREAM_SECONDS says", () => {
    expect(parseConfig({ VERCEL: "1" }).maxStreamSeconds).toBe(VERCEL_MAX_STREAM_SECONDS);
    expect(VERCEL_MAX_STREAM_SECONDS).toBeLessThan(maxDuration);
    expect(VERCEL_MAX_STREAM_SECONDS).toBeGreaterThan(maxDuration * 0.9);
    expect(parseConfig({ VERCEL: "1", SSE_MAX_STREAM_SECONDS: "60" }).maxStreamSeconds).toBe(60);
    expect(parseConfig({ VERCEL: "1", SSE_MAX_STREAM_SECONDS: "0" }).maxStreamSeconds).toBe(0);
    expect(parseConfig({}).maxStreamSeconds).toBe(0);
  });

  it("prefers SSE_REDIS_URL over REDIS_URL, like Flask-SSE", () => {
    const config = parseConfig({
      SSE_REDIS_URL: "redis://:secret@a:6380/2",
      REDIS_URL: "redis://b",
    });
    expect(config.redisUrl).toBe("redis://:secret@a:6380/2");
    expect(parseConfig({ REDIS_URL: "rediss://b:6380" }).redisUrl).toBe("rediss://b:6380");
  });

  it("treats blank values as unset", () => {
    expect(parseConfig({ SSE_REDIS_URL: "", SSE_HEARTBEAT_MS: "" })).toMatchObject({
      redisUrl: undefined,
      heartbeatMs: 15000,
    });
  });

  it("reads Redis Cluster seed nodes", () => {
    expect(
      parseConfig({ SSE_REDIS_CLUSTER_NODES: "10.0.0.1:7000, redis://:pw@10.0.0.2:7001" })
        .redisClusterNodes,
    ).toEqual(["10.0.0.1:7000", "redis://:pw@10.0.0.2:7001"]);
    expect(() => parseConfig({ SSE_REDIS_CLUSTER_NODES: "nope" })).toThrow(
      /SSE_REDIS_CLUSTER_NODES/,
    );
  });

  it("reads the CORS allow-list", () => {
    expect(
      parseConfig({ SSE_CORS_ORIGINS: "https://a.example, http://localhost:3001" }).corsOrigins,
    ).toEqual(["https://a.example", "http://localhost:3001"]);
    expect(() => parseConfig({ SSE_CORS_ORIGINS: "https://a.example/path" })).toThrow(
      /SSE_CORS_ORIGINS/,
    );
  });

  it("names every invalid variable", () => {
    expect(() => parseConfig({ REDIS_URL: "http://x", SSE_HEARTBEAT_MS: "soon" })).toThrow(
      ConfigError,
    );
    expect(() => parseConfig({ REDIS_URL: "http://x", SSE_HEARTBEAT_MS: "soon" })).toThrow(
      /REDIS_URL.*SSE_HEARTBEAT_MS/,
    );
    expect(() => parseConfig({ SSE_RETRY_MS: "-1" })).toThrow(/SSE_RETRY_MS/);
  });
});
