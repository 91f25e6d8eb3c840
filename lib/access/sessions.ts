import "server-only";
import { refuseRevoked } from "@/lib/access/revocation";
import { mintChannelToken, verifyChannelToken } from "@/lib/access/tokens";
import type { RequestLike } from "@/lib/http";

/**
 * A minimal sign-in session, for the sign-in recipe and the demo: an HttpOnly cookie holding
 * a token signed with SSE_SECRET that names the user (`sub`) and grants no private channel. An app
 * with its own auth (Auth.js, Clerk, …) reads its own session in `authorize` instead; what
 * matters is the shape: a rule reads the request's cookie, and logout calls
 * `disconnect({ sub })`, so that user's open streams end on every instance at once.
 */
export const SESSION_COOKIE = "sse_session";

/** A user id a session may name: what `user-<sub>` channels allow. */
export const SESSION_SUB = /^[a-z0-9-]{1,32}$/;

/**
 * What makes a token a session, not a channel token that happens to carry a `sub`: it
 * names the public channel `session.<sub>` (no privilege: public channels need no token).
 */
const sessionMarker = (sub: string) => `session.${sub}`;

/** The session cookie's value for `sub` (lives a day). */
export function mintSession(sub: string): string {
  return mintChannelToken([sessionMarker(sub)], { subject: sub, ttlSeconds: 86_400 });
}

const SESSION_COOKIE_PATTERN = new RegExp(`(?:^|;\\s*)${SESSION_COOKIE}=([^;]+)`);

/** The session cookie's value in a `Cookie` header, if any. */
export function sessionCookieOf(cookieHeader: string | null): string | undefined {
  return cookieHeader === null ? undefined : SESSION_COOKIE_PATTERN.exec(cookieHeader)?.[1];
}

/**
 * The signed-in user of a request (or of a cookie value), or undefined: no cookie, a bad or
 * expired one, or one revoked by `disconnect({ sub })` (a logout).
 * @throws what the revocation store throws when Redis does not answer (not a refusal).
 */
export async function readSession(
  from: RequestLike | string | undefined,
): Promise<{ sub: string } | undefined> {
  const value = typeof from === "object" ? sessionCookieOf(from.headers.get("cookie")) : from;
  if (value === undefined) return undefined;
  let grant: Awaited<ReturnType<typeof verifyChannelToken>>;
  try {
    grant = await verifyChannelToken(value);
  } catch {
    return undefined;
  }
  if (grant.sub === undefined || !SESSION_SUB.test(grant.sub)) return undefined;
  // A channel token (a page's visitor token, another service's) is no session.
  if (!grant.channels.includes(sessionMarker(grant.sub))) return undefined;
  try {
    await refuseRevoked(grant);
  } catch (error) {
    if ((error as { code?: unknown }).code === "token_revoked") return undefined;
    throw error;
  }
  return { sub: grant.sub };
}
