import "server-only";
import { createHash } from "node:crypto";
import type { Cluster, Redis } from "ioredis";
import type { Revocation, RevocationStore } from "@/lib/access/revocation/types";
import { withTimeout } from "@/lib/broker/with-timeout";

/**
 * Revocations in Redis: `<prefix>revoked:sub:<sha256(sub)>` = revoked-at (ms) and
 * `<prefix>revoked:jti:<sha256(jti)>`, each expiring with the longest token it refuses
 * (hashed: a `sub` is client-chosen text and never reaches a key as it is), plus a Redis
 * Stream `<prefix>revocations` (the last 1000) that every instance polls to end the streams
 * it holds. It uses the broker's command connection.
 */
export class RedisRevocationStore implements RevocationStore {
  readonly kind = "redis";

  constructor(
    private readonly client: () => Redis | Cluster,
    private readonly prefix: string,
    private readonly timeoutMs = 3000,
  ) {}

  private key(kind: "sub" | "jti", value: string): string {
    return `${this.prefix}revoked:${kind}:${createHash("sha256").update(value).digest("hex")}`;
  }

  private get log(): string {
    return `${this.prefix}revocations`;
  }

  async revoke(revocation: Revocation, ttlSeconds: number): Promise<void> {
    const client = this.client();
    const writes: Array<Promise<unknown>> = [];
    if (revocation.sub !== undefined) {
      writes.push(
        client.set(this.key("sub", revocation.sub), String(revocation.at), "EX", ttlSeconds),
      );
    }
    if (revocation.jti !== undefined) {
      writes.push(client.set(this.key("jti", revocation.jti), "1", "EX", ttlSeconds));
    }
    writes.push(
      client.xadd(this.log, "MAXLEN", "~", "1000", "*", "revocation", JSON.stringify(revocation)),
    );
    await withTimeout("revocation", this.timeoutMs, Promise.all(writes));
  }

  async lookup(token: { sub?: string; jti?: string }) {
    const client = this.client();
    const [sub, jti] = await withTimeout(
      "revocation read",
      this.timeoutMs,
      Promise.all([
        token.sub === undefined ? null : client.get(this.key("sub", token.sub)),
        token.jti === undefined ? null : client.get(this.key("jti", token.jti)),
      ]),
    );
    return { subRevokedAt: sub === null ? undefined : Number(sub), jti: jti !== null };
  }

  async since(cursor: string | undefined) {
    const client = this.client();
    if (cursor === undefined) {
      const last = (await withTimeout(
        "revocation read",
        this.timeoutMs,
        client.xrevrange(this.log, "+", "-", "COUNT", 1),
      )) as Array<[string, string[]]>;
      return { revocations: [], cursor: last[0]?.[0] ?? "0-0" };
    }
    const rows = (await withTimeout(
      "revocation read",
      this.timeoutMs,
      client.xrange(this.log, `(${cursor}`, "+", "COUNT", 1000),
    )) as Array<[string, string[]]>;
    const revocations: Revocation[] = [];
    for (const [, fields] of rows) {
      try {
        revocations.push(JSON.parse(fields[1]) as Revocation);
      } catch {
        // Not ours: skip it.
      }
    }
    return { revocations, cursor: rows.at(-1)?.[0] ?? cursor };
  }
}
