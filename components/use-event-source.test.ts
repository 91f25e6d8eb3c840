import { describe, expect, it } from "vitest";
import { parseStreamUrl } from "@/components/use-event-source";

describe("parseStreamUrl", () => {
  it("takes a hook's URL apart: the shared endpoint, its channels, rewind and a URL token", () => {
    expect(parseStreamUrl("/stream")).toEqual({
      endpoint: "/stream",
      channels: ["sse"],
      rewind: 0,
      after: null,
      token: null,
    });
    expect(parseStreamUrl("/stream?channel=a&channel=b&channel=a&rewind=10&token=t")).toEqual({
      endpoint: "/stream",
      channels: ["a", "b"],
      rewind: 10,
      after: null,
      token: "t",
    });
    // A position in the URL is where the hook starts, not dropped.
    expect(parseStreamUrl("/stream?channel=orders&lastEventId=1700000000000-3").after).toBe(
      "1700000000000-3",
    );
    expect(parseStreamUrl("https://rt.example/stream?channel=chat&v=2").endpoint).toBe(
      "https://rt.example/stream?v=2",
    );
  });
});
