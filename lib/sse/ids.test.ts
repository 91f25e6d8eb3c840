import { describe, expect, it } from "vitest";
import {
  channelOfId,
  compareStreamIds,
  decodeLastEventId,
  encodeMultiChannelId,
  isStreamId,
  publishedAtMs,
} from "@/lib/sse/ids";

describe("stream ids", () => {
  it("recognises Redis stream ids only", () => {
    expect(isStreamId("1700000000000-0")).toBe(true);
    expect(isStreamId("0-0")).toBe(true);
    for (const bad of ["", "5", "1-", "-1", "a-b", "1-2-3", "1 -2"])
      expect(isStreamId(bad)).toBe(false);
  });

  it("orders by time, then by sequence, numerically", () => {
    expect(compareStreamIds("2-0", "10-0")).toBeLessThan(0);
    expect(compareStreamIds("5-10", "5-9")).toBeGreaterThan(0);
    expect(compareStreamIds("7-3", "7-3")).toBe(0);
    expect(compareStreamIds("1700000000000-0", "1700000000001-0")).toBeLessThan(0);
  });
});

describe("multi-channel ids", () => {
  it("round-trips positions and names the event's channel", () => {
    const channels = ["a", "b", "c"];
    const id = encodeMultiChannelId(
      "b",
      channels,
      new Map([
        ["a", "1-0"],
        ["b", "2-5"],
      ]),
    );
    expect(id).toBe("b/a=1-0,b=2-5");
    expect(channelOfId(id)).toBe("b");
    expect(decodeLastEventId(id, channels)).toEqual(
      new Map([
        ["a", "1-0"],
        ["b", "2-5"],
      ]),
    );
  });

  it("applies a plain stream id to every channel", () => {
    expect(decodeLastEventId("9-1", ["a", "b"])).toEqual(
      new Map([
        ["a", "9-1"],
        ["b", "9-1"],
      ]),
    );
  });

  it("ignores channels the stream no longer has", () => {
    expect(decodeLastEventId("a/a=1-0,gone=2-0", ["a"])).toEqual(new Map([["a", "1-0"]]));
  });

  it("rejects ids that are not ours", () => {
    for (const bad of ["hello", "5", "a/a=x", "a/=1-0", "a/a", "x".repeat(5000)]) {
      expect(decodeLastEventId(bad, ["a"])).toBeUndefined();
    }
    expect(channelOfId("1-0")).toBeUndefined();
  });
});

describe("publishedAtMs", () => {
  it("reads the publish time from plain and multi-channel ids", () => {
    expect(publishedAtMs("1763900000123-4")).toBe(1763900000123);
    expect(publishedAtMs("b/a=1-0,b=1763900000456-0")).toBe(1763900000456);
    expect(publishedAtMs("order-7")).toBeUndefined();
    expect(publishedAtMs("c/a=1-0")).toBeUndefined();
  });
});
