import "server-only";
import { MemoryRevocationStore } from "@/lib/access/revocation/memory";
import { RedisRevocationStore } from "@/lib/access/revocation/redis";
import type { Revocation, RevocationStore } from "@/lib/access/revocation/types";
import { getBroker } from "@/lib/broker";
import type { RedisBroker } from "@/lib/broker/redis";
import { getConfig } from "@/lib/config";
import { HttpError } from "@/lib/http";
import { singleton } from "@/lib/ops/singleton";
import { SseInputError } from "@/lib/sse/frame";
import { revokeStreams } from "@/lib/stream/registry";

export type { Revocation, RevocationStore } from "@/lib/access/revocation/types";

/** The process's revocation store: in Redis beside the Redis broker, else in memory. */
export function getRevocationStore(): RevocationStore {
  return singleton("revocation-store", () => {
    const broker = getBroker();
    const config = getConfig();
    return broker.kind === "redis"
      ? new RedisRevocationStore(
          () => (broker as RedisBroker).commandClient(),
          config.keyPrefix,
          config.redisTimeoutMs,
        )
      : new MemoryRevocationStore();
  });
}

/** How often each instance looks for revocations made elsewhere (ms). */
const POLL_MS = 500;

interface Poller {
  cursor: string | undefined;
  timer: ReturnType<typeof setInterval> | undefined;
  running: boolean;
}

/**
 * Makes this instance end, within about half a second, the streams of tokens revoked on any
 * instance. Started by the first stream a token opened (or the first `disconnect`).
 */
export function watchRevocations(): void {
  const poller = singleton<Poller>("revocation-poller", () => ({
    cursor: undefined,
    timer: undefined,
    running: false,
  }));
  if (poller.timer !== undefined) return;
  const poll = async () => {
    if (poller.running) return;
    poller.running = true;
    try {
      const { revocations, cursor } = await getRevocationStore().since(poller.cursor);
      poller.cursor = cursor;
      for (const revocation of revocations) revokeStreams(revocation);
    } catch {
      // Redis is away: the next round asks again from the same cursor.
    } finally {
      poller.running = false;
    }
  };
  poller.timer = setInterval(() => void poll(), POLL_MS);
  poller.timer.unref();
  void poll();
}

/**
 * Revokes every token of `sub` issued until now (by `iat`: to the second, so one minted in
 * the same second is refused too), or the one token `jti`: their open streams end on every
 * instance within about a second, and they cannot open new ones until they expire. Tokens
 * minted after it work. Returns the streams ended on this instance.
 * @throws BrokerUnavailableError when Redis does not answer in time.
 */
export async function disconnect(target: { sub?: string; jti?: string }): Promise<number> {
  const revocation: Revocation = { ...target, at: Date.now() };
  await getRevocationStore().revoke(revocation, getConfig().revocationTtlSeconds);
  watchRevocations();
  return revokeStreams(target);
}

/**
 * @throws HttpError 403 `token_revoked` for a token of a revoked `sub` issued before the
 * revocation, or a revoked `jti`.
 */
export async function refuseRevoked(grant: { sub?: string; claims: Record<string, unknown> }) {
  const jti = typeof grant.claims.jti === "string" ? grant.claims.jti : undefined;
  if (grant.sub === undefined && jti === undefined) return;
  const { subRevokedAt, jti: jtiRevoked } = await getRevocationStore().lookup({
    sub: grant.sub,
    jti,
  });
  const iat = typeof grant.claims.iat === "number" ? grant.claims.iat : undefined;
  const beforeRevocation =
    subRevokedAt !== undefined && (iat === undefined || iat * 1000 <= subRevokedAt);
  if (jtiRevoked || beforeRevocation) {
    throw new HttpError(403, "token_revoked", "this token was revoked: get a new one");
  }
}

/**
 * Reads `POST /api/disconnect`'s body: `{ sub }` and/or `{ jti }`, strings of 1 to 512
 * characters.
 * @throws SseInputError naming the field (400).
 */
export function parseDisconnectRequest(body: unknown): { sub?: string; jti?: string } {
  const fields = (typeof body === "object" && body !== null ? body : {}) as Record<string, unknown>;
  const target: { sub?: string; jti?: string } = {};
  for (const name of ["sub", "jti"] as const) {
    const value = Object.hasOwn(fields, name) ? fields[name] : undefined;
    if (value === undefined) continue;
    if (typeof value !== "string" || value.length === 0 || value.length > 512) {
      throw new SseInputError(name, `${name} must be a string of 1 to 512 characters`);
    }
    target[name] = value;
  }
  if (target.sub === undefined && target.jti === undefined) {
    throw new SseInputError("sub", "give sub (every token of a user) or jti (one token)");
  }
  return target;
}
