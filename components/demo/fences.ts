import "server-only";
import { randomBytes } from "node:crypto";
import { PRIVATE_DEMO_CHANNEL, PRIVATE_PLAYGROUND_CHANNEL } from "@/components/demo/channels";
import { requireChannelTokens } from "@/lib/access/authorize";
import { limitRate } from "@/lib/access/rate-limit";
import { mintChannelToken } from "@/lib/access/tokens";
import { getConfig } from "@/lib/config";
import { HttpError } from "@/lib/http";

/**
 * The demo (quickstart and playground) publishes without a publish token, so it is fenced:
 * off with SSE_DEMO=off, a fixed list of channels, private ones only with the token the
 * page was given, and a per-client rate limit. Server Actions are public endpoints: anyone
 * can call them with a plain POST, whatever the page shows.
 * @throws HttpError 404 when the demo is off, 403 for another channel or a bad token
 * (401 without one), 429 past SSE_DEMO_PUBLISH_PER_MINUTE.
 */
export async function authorizeDemoPublish(
  headers: Headers,
  channel: string,
  allowed: readonly string[],
  token?: string,
): Promise<void> {
  requireDemo();
  if (!allowed.includes(channel)) {
    throw new HttpError(
      403,
      "channel_forbidden",
      `the demo publishes to ${allowed.join(", ")} only`,
    );
  }
  // A private channel needs the page's token, verified as the stream verifies it.
  await requireChannelTokens({ channels: [channel], token });
  limitRate(headers, "demo-publish", getConfig().demoPublishPerMinute);
}

/** @throws HttpError 404 when SSE_DEMO=off. */
export function requireDemo(): void {
  if (!getConfig().demo) throw new HttpError(404, "not_found", "the demo is off (SSE_DEMO=off)");
}

/**
 * `GET /hello` publishes on a visit, as the quickstart says; a page on another site must not
 * make a browser publish with `<img src="/hello">`. Browsers say where a request comes from:
 * a cross-site request that is not a top-level navigation is refused.
 * @throws HttpError 403 for a cross-site subresource request.
 */
export function refuseCrossSiteSubresource(headers: Headers): void {
  const site = headers.get("sec-fetch-site");
  const mode = headers.get("sec-fetch-mode");
  if (site !== null && site !== "same-origin" && site !== "none" && mode !== "navigate") {
    throw new HttpError(403, "cross_site_request", "open /hello in a tab to publish the greeting");
  }
}

/** The channels the demo pages mint tokens for when they render. */
const DEMO_TOKEN_CHANNELS: readonly string[] = [PRIVATE_DEMO_CHANNEL, PRIVATE_PLAYGROUND_CHANNEL];

/**
 * A fresh token for one of the demo's private channels: what the page's own render mints,
 * nothing more (one channel, the default lifetime), within the demo's rate limit.
 * @throws HttpError 404 when the demo is off, 403 for any other channel, 429 past the limit.
 */
export function mintDemoToken(headers: Headers, channel: string): string {
  requireDemo();
  if (!DEMO_TOKEN_CHANNELS.includes(channel)) {
    throw new HttpError(
      403,
      "channel_forbidden",
      "the demo mints tokens for its own channels only",
    );
  }
  limitRate(headers, "demo-token", getConfig().demoPublishPerMinute);
  return mintDemoVisitorToken(channel);
}

/**
 * A token for one demo channel, for a new visitor: a random `sub` (`visitor-3fa1`) and the
 * name the channel's members list shows (`Visitor 3fa1`). The demo has no sign-in; an app
 * puts its user's id and name here.
 */
export function mintDemoVisitorToken(channel: string): string {
  const id = randomBytes(2).toString("hex");
  return mintChannelToken([channel], {
    subject: `visitor-${id}`,
    presence: { name: `Visitor ${id}` },
  });
}
