import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { authorizeDemoPublish, refuseCrossSiteSubresource } from "@/components/demo/fences";
import { mintChannelToken } from "@/lib/access/tokens";
import { resetSingletons } from "@/lib/ops/singleton";

const client = (address: string) => new Headers({ "x-forwarded-for": address });
const CHANNELS = ["news", "private-playground"];
const refusal = async (run: () => Promise<void>) => {
  try {
    await run();
  } catch (error) {
    return error as { status: number; code: string };
  }
  throw new Error("expected a refusal");
};

describe("the demo's publish fence", () => {
  beforeEach(() => {
    process.env.SSE_DEMO_PUBLISH_PER_MINUTE = "2";
    resetSingletons("config", "rate-limit");
  });
  afterEach(() => {
    delete process.env.SSE_DEMO_PUBLISH_PER_MINUTE;
    delete process.env.SSE_DEMO;
    resetSingletons("config", "rate-limit");
  });

  it("allows the demo's channels only, private ones with a token for them", async () => {
    await expect(authorizeDemoPublish(client("a"), "news", CHANNELS)).resolves.toBeUndefined();
    expect(
      await refusal(() => authorizeDemoPublish(client("a"), "private-user-42", CHANNELS)),
    ).toMatchObject({ status: 403, code: "channel_forbidden" });
    expect(
      await refusal(() => authorizeDemoPublish(client("b"), "private-playground", CHANNELS)),
    ).toMatchObject({ status: 401, code: "token_required" });
    const other = mintChannelToken(["private-other"]);
    expect(
      await refusal(() => authorizeDemoPublish(client("b"), "private-playground", CHANNELS, other)),
    ).toMatchObject({ status: 403, code: "channel_forbidden" });
    const mine = mintChannelToken(["private-playground"]);
    await expect(
      authorizeDemoPublish(client("b"), "private-playground", CHANNELS, mine),
    ).resolves.toBeUndefined();
  });

  it("limits each client, not everyone", async () => {
    await authorizeDemoPublish(client("a"), "news", CHANNELS);
    await authorizeDemoPublish(client("a"), "news", CHANNELS);
    expect(await refusal(() => authorizeDemoPublish(client("a"), "news", CHANNELS))).toMatchObject({
      status: 429,
      code: "rate_limited",
    });
    await expect(authorizeDemoPublish(client("b"), "news", CHANNELS)).resolves.toBeUndefined();
  });

  it("is off with SSE_DEMO=off", async () => {
    process.env.SSE_DEMO = "off";
    resetSingletons("config");
    expect(await refusal(() => authorizeDemoPublish(client("a"), "news", CHANNELS))).toMatchObject({
      status: 404,
    });
  });

  it("refuses cross-site subresource requests, not navigations", async () => {
    const headers = (site: string, mode: string) =>
      new Headers({ "sec-fetch-site": site, "sec-fetch-mode": mode });
    expect(
      await refusal(async () => refuseCrossSiteSubresource(headers("cross-site", "no-cors"))),
    ).toMatchObject({ status: 403, code: "cross_site_request" });
    expect(() => refuseCrossSiteSubresource(headers("cross-site", "navigate"))).not.toThrow();
    expect(() => refuseCrossSiteSubresource(headers("same-origin", "cors"))).not.toThrow();
    expect(() => refuseCrossSiteSubresource(new Headers())).not.toThrow();
  });
});
