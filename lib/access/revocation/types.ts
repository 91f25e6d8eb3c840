import "server-only";

/**
 * Where revocations live, so every instance refuses a revoked token and ends its streams.
 * Two implementations, Redis and in-memory, pass the same contract suite
 * (`contract.test.ts`). Separate from the broker, which is transport only.
 */

/** What is revoked: every token of a user issued before `at`, or one token by its `jti`. */
export interface Revocation {
  sub?: string;
  jti?: string;
  /** When it was revoked (ms since the epoch). */
  at: number;
}

export interface RevocationStore {
  readonly kind: "redis" | "memory";
  /** Records a revocation for `ttlSeconds` (the longest a token it refuses can live). */
  revoke(revocation: Revocation, ttlSeconds: number): Promise<void>;
  /**
   * When `sub` was last revoked (ms), and whether `jti` is revoked; both optional.
   * @throws BrokerUnavailableError when Redis does not answer in time.
   */
  lookup(token: { sub?: string; jti?: string }): Promise<{ subRevokedAt?: number; jti: boolean }>;
  /** Revocations recorded after `cursor` (undefined: from now on), and the next cursor. */
  since(cursor: string | undefined): Promise<{ revocations: Revocation[]; cursor: string }>;
}
