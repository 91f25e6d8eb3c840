import "server-only";
import { z } from "zod";
import { ConfigError, settingSource, unknownSettings } from "@/lib/config/env-files";
import { singleton } from "@/lib/ops/singleton";
import { DEFAULT_MAX_CHANNELS_PER_STREAM, MAX_CHANNEL_LENGTH } from "@/lib/sse/channel";

// Empty strings count as unset, so `FOO=` in an .env file means "use the default".
const blankToUndefined = (value: unknown) => (value === "" ? undefined : value);

const redisUrl = z.preprocess(
  blankToUndefined,
  z.url({ protocol: /^rediss?$/, error: "must be a redis:// or rediss:// URL" }).optional(),
);

const integer = (fallback: number, min: number, max = Number.MAX_SAFE_INTEGER) =>
  z.preprocess(blankToUndefined, z.coerce.number().int().min(min).max(max).default(fallback));

const optionalString = (schema: z.ZodString) => z.preprocess(blankToUndefined, schema.optional());

/** A comma-separated list, each item checked by `item`; blank means unset. */
const commaList = (item: z.ZodType<string, string>) =>
  z.preprocess(
    blankToUndefined,
    z
      .string()
      .transform((value) =>
        value
          .split(",")
          .map((entry) => entry.trim())
          .filter(Boolean),
      )
      .pipe(z.array(item).min(1))
      .optional(),
  );

const originList = commaList(
  z.union([
    z.literal("*"),
    z
      .url()
      .refine((url) => new URL(url).origin === url, "must be an origin like https://app.example"),
  ]),
);

const clusterNodes = commaList(
  z.string().regex(/^(rediss?:\/\/.+|[\w.-]+:\d+)$/, "must be host:port or redis:// URLs"),
);

export const ENV_SCHEMA = z.object({
  SSE_REDIS_CLUSTER_NODES: clusterNodes,
  SSE_REDIS_SENTINELS: commaList(z.string().regex(/^[\w.-]+:\d+$/, "must be host:port")),
  SSE_REDIS_SENTINEL_MASTER: z.preprocess(
    blankToUndefined,
    z
      .string()
      .regex(/^[\w.-]+$/, "must be a master name")
      .default("mymaster"),
  ),
  SSE_REDIS_AUDIT_MS: integer(3000, 0, 600_000),
  SSE_REDIS_WAIT_REPLICAS: integer(0, 0, 16),
  SSE_REDIS_URL: redisUrl,
  REDIS_URL: redisUrl,
  SSE_REDIS_TIMEOUT_MS: integer(3000, 100, 60_000),
  SSE_RETRY_MS: integer(3000, 0, 3_600_000),
  SSE_HEARTBEAT_MS: integer(15_000, 0, 3_600_000),
  SSE_MAX_CHANNELS_PER_STREAM: integer(DEFAULT_MAX_CHANNELS_PER_STREAM, 1, 1024),
  SSE_MAX_BACKLOG_BYTES: integer(1024 * 1024, 1024),
  SSE_MAX_REPLAY_BYTES: integer(8 * 1024 * 1024, 1024),
  SSE_MAX_REWIND: integer(100, 0, 100),
  SSE_MAX_STREAM_SECONDS: integer(0, 0, 7 * 24 * 3600),
  SSE_MAX_CONNECTIONS: integer(20_000, 1, 1_000_000),
  SSE_MAX_CHANNEL_LENGTH: integer(MAX_CHANNEL_LENGTH, 1, 512),
  SSE_PUBLISH_TOKEN: optionalString(z.string().min(16, "must be at least 16 characters")),
  SSE_PUBLISH_MAX_BYTES: integer(64 * 1024, 64, 16 * 1024 * 1024),
  SSE_HISTORY_MAX_LEN: integer(1000, 0, 1_000_000),
  SSE_HISTORY_TTL_SECONDS: integer(3600, 0, 30 * 24 * 3600),
  SSE_HISTORY_KEEP_LAST: integer(50, 0, 1_000_000),
  SSE_HISTORY_IDLE_TTL_SECONDS: integer(7 * 24 * 3600, 0, 90 * 24 * 3600),
  SSE_SECRET: optionalString(z.string().min(32, "must be at least 32 characters")),
  SSE_SECRET_PREVIOUS: optionalString(z.string().min(32, "must be at least 32 characters")),
  SSE_JWKS_URL: optionalString(z.string().url("must be a URL")),
  SSE_JWKS_COOLDOWN_MS: integer(30_000, 0, 3_600_000),
  SSE_JWKS_TIMEOUT_MS: integer(5000, 100, 60_000),
  SSE_JWT_PUBLIC_KEY: optionalString(
    z.string().regex(/-----BEGIN PUBLIC KEY-----/, "must be a PEM public key (SPKI)"),
  ),
  SSE_JWT_ISSUER: optionalString(z.string().min(1)),
  SSE_JWT_AUDIENCE: optionalString(z.string().min(1)),
  SSE_REVOCATION_TTL_SECONDS: integer(86_400, 60, 365 * 24 * 3600),
  SSE_PRIVATE_PREFIX: z.preprocess(blankToUndefined, z.string().default("private-")),
  SSE_TOKEN_TTL_SECONDS: integer(3600, 1, 30 * 24 * 3600),
  SSE_CORS_ORIGINS: originList,
  SSE_METRICS_TOKEN: optionalString(z.string().min(16, "must be at least 16 characters")),
  SSE_SHUTDOWN_TIMEOUT_MS: integer(5000, 0, 600_000),
  SSE_DRAIN_SPREAD_MS: integer(2000, 0, 600_000),
  PORT: integer(3000, 0, 65_535),
  HOSTNAME: z.preprocess(blankToUndefined, z.string().default("0.0.0.0")),
  SSE_WORKERS: z.preprocess(
    blankToUndefined,
    z
      .union([z.literal("auto"), z.coerce.number().int().min(1).max(256)], {
        error: 'must be a number of processes from 1 to 256, or "auto" (one per core)',
      })
      .default(1),
  ),
  VERCEL: z.string().optional(),
  SSE_DEMO: z.preprocess(
    blankToUndefined,
    z.enum(["on", "off"], { error: 'must be "on" or "off"' }).default("on"),
  ),
  SSE_DEMO_PUBLISH_PER_MINUTE: integer(30, 1, 100_000),
  SSE_AI_MODEL: optionalString(
    z
      .string()
      .regex(/^[A-Za-z0-9._-]+\/[A-Za-z0-9._:-]+$/, "must be a model id like openai/gpt-5-mini"),
  ),
  SSE_AI_MOCK_TOKEN_MS: integer(30, 0, 10_000),
  SSE_AI_ANSWER_TTL_SECONDS: integer(3600, 60, 30 * 86_400),
  SSE_AI_MAX_ANSWER_BYTES: integer(1 << 20, 1024, 64 << 20),
  SSE_AI_FLUSH_MS: integer(0, 0, 1000),
  SSE_AI_STORE_MS: integer(1000, 0, 10_000),
  SSE_BODY_TIMEOUT_MS: integer(10_000, 100, 600_000),
  SSE_MAX_STREAMS_PER_CLIENT: integer(100, 0, 1_000_000),
  SSE_PUBLISH_PER_MINUTE: integer(60_000, 0, 100_000_000),
  SSE_KEY_PREFIX: z.preprocess(
    blankToUndefined,
    z
      .string()
      .regex(/^[A-Za-z0-9:_.-]{1,64}$/, "must be 1 to 64 characters of A-Z a-z 0-9 : _ . -")
      .default("sse:"),
  ),
  SSE_FLASK_SSE: z.preprocess(
    blankToUndefined,
    z.enum(["on", "off"], { error: 'must be "on" or "off"' }).default("off"),
  ),
  SSE_TRUST_PROXY: z.preprocess(
    blankToUndefined,
    z
      .union([z.enum(["true", "false"]), z.string().regex(/^\d{1,2}$/)], {
        error: "must be the number of proxies of yours in front (0 to 16), or true (1) / false (0)",
      })
      .default("0")
      .transform((value) => (value === "true" ? 1 : value === "false" ? 0 : Number(value)))
      .pipe(z.number().int().min(0).max(16, "must be at most 16 proxies")),
  ),
  SSE_FAST_PATH: z.preprocess(
    blankToUndefined,
    z.enum(["on", "off"], { error: 'must be "on" or "off"' }).default("on"),
  ),
  SSE_REAUTHORIZE_SECONDS: integer(60, 0, 86_400),
});

/** The name of every setting, for the start-up check of unknown `SSE_` variables. */
export const SETTING_NAMES: readonly string[] = Object.keys(ENV_SCHEMA.shape);

/**
 * Vercel stops a function after the route's `maxDuration` (300 s, exported by
 * `app/stream/route.ts`). There streams end a little before, cleanly, so browsers resume.
 */
export const VERCEL_MAX_STREAM_SECONDS = 285;

/** Every setting of next-sse, validated. See `.env.example` and the README's settings table. */
export interface SseConfig {
  /** Redis Cluster seed nodes; when set, they win over the URL (sharded pub/sub). */
  redisClusterNodes: string[] | undefined;
  /** Redis URL (`SSE_REDIS_URL`, else `REDIS_URL`); undefined selects the in-memory broker. */
  redisUrl: string | undefined;
  /** Redis Sentinel `host:port` list; when set (and no cluster), it wins over the URL. */
  redisSentinels: string[] | undefined;
  /** The master name the sentinels watch (default `mymaster`). */
  redisSentinelMaster: string;
  /** Quiet subscriptions get a probe this often; one that never comes back is repaired (ms). */
  redisAuditMs: number;
  /** Replicas a publish must reach before it is acknowledged (`WAIT`; not on a cluster). */
  redisWaitReplicas: number;
  /** How long a publish or subscribe may wait for Redis before failing (default 3000 ms). */
  redisTimeoutMs: number;
  /** Reconnect delay sent to browsers in `retry:` (default 3000 ms). */
  retryMs: number;
  /** Idle time after which a stream gets a keep-alive comment; 0 turns it off (default 15000 ms). */
  heartbeatMs: number;
  /** Channels one stream may subscribe to (default 16). */
  maxChannelsPerStream: number;
  /** Bytes a stream may have queued for a slow client before it is dropped (default 1 MiB). */
  maxBacklogBytes: number;
  /** Events `?rewind=N` may ask for per channel (default 100; 100 at most, one history page). */
  maxRewind: number;
  /**
   * Bytes of history one resume replays (paced by the client's reading) before the rest of a
   * channel gets `reset` instead: a client that far behind is better off refetching (8 MiB).
   */
  maxReplayBytes: number;
  /** Seconds before a stream is ended so the browser reconnects and resumes; 0 for never. */
  maxStreamSeconds: number;
  /** Open streams one process serves; past it, 503 with Retry-After (default 20000). */
  maxConnections: number;
  /** Longest channel name (default 128). */
  maxChannelLength: number;
  /** Bearer token for `POST /api/publish`; undefined turns the endpoint off. */
  publishToken: string | undefined;
  /** Largest publish API body, in bytes (default 64 KiB). */
  publishMaxBytes: number;
  /** Events kept per channel for resume (default 1000); 0 turns history off. */
  historyMaxLength: number;
  /** Seconds an event stays in history (default 3600); 0 turns history off... */
  historyTtlSeconds: number;
  /** ...except a channel's newest N (default 50), so an idle room does not open empty... */
  historyKeepLast: number;
  /** ...kept until the channel has had no publish for this long (default 7 days). */
  historyIdleTtlSeconds: number;
  /** HMAC key for channel tokens; undefined: a random key per process (single instance only). */
  secret: string | undefined;
  /** The key before SSE_SECRET, still accepted while tokens signed with it live (rotation). */
  previousSecret: string | undefined;
  /** An identity provider's JWKS (RS256/ES256/EdDSA tokens); wins over the secrets. */
  jwksUrl: string | undefined;
  /** Least time between two JWKS fetches, e.g. for an unknown `kid` (default 30000 ms). */
  jwksCooldownMs: number;
  /** A JWKS fetch slower than this answers 503 (default 5000 ms). */
  jwksTimeoutMs: number;
  /** A PEM public key (SPKI) tokens are signed for; wins over the secrets. */
  jwtPublicKey: string | undefined;
  /** Required `iss` of tokens, when set. */
  jwtIssuer: string | undefined;
  /** Required `aud` of tokens, when set. */
  jwtAudience: string | undefined;
  /** How long a revocation is kept: the longest a token it refuses can live (default 1 day). */
  revocationTtlSeconds: number;
  /** Channels starting with this need a token (default `private-`). */
  privatePrefix: string;
  /** Lifetime of tokens `mintChannelToken` issues (default 3600 s). */
  tokenTtlSeconds: number;
  /** Origins allowed to read streams and publish cross-origin (`*` for any); empty for none. */
  corsOrigins: string[];
  /** Bearer token for `GET /api/metrics`; undefined leaves it open. */
  metricsToken: string | undefined;
  /** On SIGTERM, exit after at most this long even if clients hold on (default 5000 ms). */
  shutdownTimeoutMs: number;
  /**
   * On SIGTERM, open streams are ended over this long (ms, default 2000; at most half the
   * shutdown timeout), so their clients reconnect to the other instances as a stream, not a
   * stampede.
   */
  drainSpreadMs: number;
  /** Port of the production server, `npm start` (default 3000, as `next start`). */
  port: number;
  /** Address it listens on (default `0.0.0.0`, every interface, as `next start`). */
  hostname: string;
  /** Processes `npm start` runs on the one port (`node:cluster`); "auto" is one per core. */
  workers: number | "auto";
  /** How long a request body (the publish API's) may take to arrive (default 10000 ms). */
  bodyTimeoutMs: number;
  /** Streams one client address may hold in this process (default 100); 0: no limit. */
  maxStreamsPerClient: number;
  /** Publish API requests one client address may make per minute (default 60000); 0: no limit. */
  publishPerMinute: number;
  /** Prefix of every Redis key and pub/sub channel next-sse uses (default `sse:`). */
  keyPrefix: string;
  /**
   * Also take Flask-SSE's JSON envelopes PUBLISHed on a channel's bare name (default off:
   * on a shared Redis a bare name may be another app's channel).
   */
  flaskSse: boolean;
  /** The quickstart and playground routes and actions (default on; off answers 404). */
  demo: boolean;
  /** Publishes one client may make through the demo's routes and actions per minute (30). */
  demoPublishPerMinute: number;
  /**
   * The demo chat's model through the AI Gateway (`openai/gpt-5-mini`; the AI SDK reads
   * AI_GATEWAY_API_KEY); unset, the AI SDK's mock model answers, with no key and no network.
   */
  aiModel: string | undefined;
  /** The mock model's pause between tokens (ms, default 30). */
  aiMockTokenMs: number;
  /** How long an answer's channel is kept after its last write (s, default 3600). */
  aiAnswerTtlSeconds: number;
  /** An answer's size bound in bytes (default 1 MiB): past it, it ends as failed. */
  aiMaxAnswerBytes: number;
  /** How long an answer's chunks are gathered into one write (ms; default 0: what one turn brought). */
  aiFlushMs: number;
  /** Time between an answer's writes while only the instance running it serves it (ms). */
  aiStoreMs: number;
  /**
   * How many proxies of yours stand in front (`SSE_TRUST_PROXY`, default 0; `true` is 1):
   * the client's address is that many `X-Forwarded-For` entries from the right (each proxy
   * appends the address it saw). With 0, `npm start` replaces X-Forwarded-For with the
   * socket's address and drops X-Forwarded-Host and X-Forwarded-Proto.
   */
  trustProxy: number;
  /**
   * `npm start` reads plain `/stream` requests off the socket (default on); off serves every
   * stream through Node's HTTP server (more CPU per connect, no hand-written head parser).
   */
  fastPath: boolean;
  /**
   * Streams admitted by an app rule (not a token with `exp`) are authorized again this often
   * and end when the rule now refuses (default 60 s; 0 never).
   */
  reauthorizeSeconds: number;
}

export { ConfigError } from "@/lib/config/env-files";

/**
 * Validates an environment into an SseConfig.
 * @throws ConfigError naming each invalid variable.
 */
export function parseConfig(
  env: Record<string, string | undefined>,
  sourceOf: (name: string) => string | undefined = () => undefined,
): SseConfig {
  const result = ENV_SCHEMA.safeParse(env);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const name = issue.path.join(".");
      const source = sourceOf(name);
      return `${name}${source === undefined ? "" : ` (in ${source})`}: ${issue.message}`;
    });
    throw new ConfigError(`invalid next-sse settings: ${problems.join("; ")}`);
  }
  const e = result.data;
  return {
    redisClusterNodes: e.SSE_REDIS_CLUSTER_NODES,
    redisSentinels: e.SSE_REDIS_SENTINELS,
    redisSentinelMaster: e.SSE_REDIS_SENTINEL_MASTER,
    redisAuditMs: e.SSE_REDIS_AUDIT_MS,
    redisWaitReplicas: e.SSE_REDIS_WAIT_REPLICAS,
    redisUrl: e.SSE_REDIS_URL ?? e.REDIS_URL,
    redisTimeoutMs: e.SSE_REDIS_TIMEOUT_MS,
    retryMs: e.SSE_RETRY_MS,
    heartbeatMs: e.SSE_HEARTBEAT_MS,
    maxChannelsPerStream: e.SSE_MAX_CHANNELS_PER_STREAM,
    maxBacklogBytes: e.SSE_MAX_BACKLOG_BYTES,
    maxReplayBytes: e.SSE_MAX_REPLAY_BYTES,
    maxRewind: e.SSE_MAX_REWIND,
    maxStreamSeconds:
      env.SSE_MAX_STREAM_SECONDS === undefined || env.SSE_MAX_STREAM_SECONDS === ""
        ? e.VERCEL
          ? VERCEL_MAX_STREAM_SECONDS
          : 0
        : e.SSE_MAX_STREAM_SECONDS,
    publishToken: e.SSE_PUBLISH_TOKEN,
    publishMaxBytes: e.SSE_PUBLISH_MAX_BYTES,
    historyMaxLength: e.SSE_HISTORY_MAX_LEN,
    historyTtlSeconds: e.SSE_HISTORY_TTL_SECONDS,
    historyKeepLast: e.SSE_HISTORY_KEEP_LAST,
    historyIdleTtlSeconds: e.SSE_HISTORY_IDLE_TTL_SECONDS,
    maxConnections: e.SSE_MAX_CONNECTIONS,
    maxChannelLength: e.SSE_MAX_CHANNEL_LENGTH,
    secret: e.SSE_SECRET,
    previousSecret: e.SSE_SECRET_PREVIOUS,
    jwksUrl: e.SSE_JWKS_URL,
    jwksCooldownMs: e.SSE_JWKS_COOLDOWN_MS,
    jwksTimeoutMs: e.SSE_JWKS_TIMEOUT_MS,
    jwtPublicKey: e.SSE_JWT_PUBLIC_KEY,
    jwtIssuer: e.SSE_JWT_ISSUER,
    jwtAudience: e.SSE_JWT_AUDIENCE,
    revocationTtlSeconds: e.SSE_REVOCATION_TTL_SECONDS,
    privatePrefix: e.SSE_PRIVATE_PREFIX,
    tokenTtlSeconds: e.SSE_TOKEN_TTL_SECONDS,
    corsOrigins: e.SSE_CORS_ORIGINS ?? [],
    metricsToken: e.SSE_METRICS_TOKEN,
    shutdownTimeoutMs: e.SSE_SHUTDOWN_TIMEOUT_MS,
    drainSpreadMs: e.SSE_DRAIN_SPREAD_MS,
    port: e.PORT,
    hostname: e.HOSTNAME,
    workers: e.SSE_WORKERS,
    bodyTimeoutMs: e.SSE_BODY_TIMEOUT_MS,
    maxStreamsPerClient: e.SSE_MAX_STREAMS_PER_CLIENT,
    publishPerMinute: e.SSE_PUBLISH_PER_MINUTE,
    keyPrefix: e.SSE_KEY_PREFIX,
    flaskSse: e.SSE_FLASK_SSE === "on",
    demo: e.SSE_DEMO === "on",
    demoPublishPerMinute: e.SSE_DEMO_PUBLISH_PER_MINUTE,
    aiModel: e.SSE_AI_MODEL,
    aiMockTokenMs: e.SSE_AI_MOCK_TOKEN_MS,
    aiAnswerTtlSeconds: e.SSE_AI_ANSWER_TTL_SECONDS,
    aiMaxAnswerBytes: e.SSE_AI_MAX_ANSWER_BYTES,
    aiFlushMs: e.SSE_AI_FLUSH_MS,
    aiStoreMs: e.SSE_AI_STORE_MS,
    trustProxy: e.SSE_TRUST_PROXY,
    fastPath: e.SSE_FAST_PATH === "on",
    reauthorizeSeconds: e.SSE_REAUTHORIZE_SECONDS,
  };
}

/** The process's configuration, read from `process.env` once. The only reader of process.env. */
export function getConfig(): SseConfig {
  return singleton("config", () => parseConfig(process.env, settingSource));
}

/**
 * Says once per process, in the log, which `SSE_` variables are no setting: a typo such as
 * SSE_REDIS_ULR would otherwise leave the default in force without a word.
 */
export function warnAboutUnknownSettings(env: Record<string, string | undefined> = process.env) {
  return singleton("unknown-settings", () => {
    const unknown = unknownSettings(env, SETTING_NAMES);
    for (const name of unknown) console.warn(`[next-sse] unknown setting ${name}: ignored`);
    return unknown;
  });
}
