import "server-only";
import { requireChannelTokens } from "@/lib/server/authorize";
import { getConfig } from "@/lib/server/config";
import { HttpError } from "@/lib/server/http";
import { limitRate } from "@/lib/server/rate-limit";

/**
 * The demo (quickstart and playground) publishes without a publish token, so it is fenced:
 * off with SSE_DEMO=off, a fixed list of channels, private ones only with the token the
 * page was given, and a per-client rate limit. Server Actions are public endpoints: anyone
 * can call them with a plain POST, whatever the page shows.
 * @throws HttpError 404 when the demo is off, 403 for another channel or a bad token
 * (401 without one), 429 past SSE_DEMO_PUBLISH_PER_MINUTE.
 */
export function authorizeDemoPublish(
  headers: Headers,
  channel: string,
  allowed: readonly string[],
  token?: string,
): void {
  requireDemo();
  if (!allowed.includes(channel)) {
    throw new HttpError(
      403,
      "channel_forbidden",
      `the demo publishes to ${allowed.join(", ")} only`,
    );
  }
  // A private channel needs the page's token, verified as the stream verifies it.
  requireChannelTokens({ channels: [channel], token });
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
