import "server-only";
import type { Revocation, RevocationStore } from "@/lib/access/revocation/types";

/** Revocations in this process (one instance: the in-memory broker). */
export class MemoryRevocationStore implements RevocationStore {
  readonly kind = "memory";
  // Maps: a `sub` is client-chosen text, never an object key.
  private readonly subs = new Map<string, { at: number; until: number }>();
  private readonly jtis = new Map<string, number>();
  private readonly log: Revocation[] = [];

  async revoke(revocation: Revocation, ttlSeconds: number): Promise<void> {
    const until = Date.now() + ttlSeconds * 1000;
    if (revocation.sub !== undefined) this.subs.set(revocation.sub, { at: revocation.at, until });
    if (revocation.jti !== undefined) this.jtis.set(revocation.jti, until);
    this.log.push(revocation);
    // Only what pollers may still ask for: they run every half second.
    if (this.log.length > 1000) this.log.splice(0, this.log.length - 1000);
  }

  async lookup(token: { sub?: string; jti?: string }) {
    const now = Date.now();
    const sub = token.sub === undefined ? undefined : this.subs.get(token.sub);
    const jtiUntil = token.jti === undefined ? undefined : this.jtis.get(token.jti);
    return {
      subRevokedAt: sub !== undefined && sub.until > now ? sub.at : undefined,
      jti: jtiUntil !== undefined && jtiUntil > now,
    };
  }

  async since(cursor: string | undefined) {
    const total = this.log.length;
    const from = cursor === undefined ? total : Number(cursor);
    return { revocations: this.log.slice(Math.min(from, total)), cursor: String(total) };
  }
}
