import { describe, expect, it } from "vitest";
import { DEFAULT_CHANNEL, isValidChannel, parseChannels } from "@/lib/sse/channel";

describe("channel rules", () => {
  it.each(["sse", "a", "user:42", "room.1_b-c", "x".repeat(128)])("accepts %s", (name) => {
    expect(isValidChannel(name)).toBe(true);
  });

  it.each(["", "x".repeat(129), "a b", "a\nb", "a{b}", "a,b", "é", "a=b", "a/b"])(
    "rejects %j",
    (name) => {
      expect(isValidChannel(name)).toBe(false);
    },
  );

  it("defaults to the sse channel", () => {
    expect(parseChannels(new URLSearchParams(""), 16)).toEqual([DEFAULT_CHANNEL]);
  });

  it("reads repeated channel parameters, collapsing duplicates", () => {
    expect(parseChannels(new URLSearchParams("channel=a&channel=b&channel=a"), 16)).toEqual([
      "a",
      "b",
    ]);
  });

  it("rejects an invalid name and too many channels", () => {
    expect(() => parseChannels(new URLSearchParams("channel=a%20b"), 16)).toThrow(
      /invalid channel/,
    );
    expect(() => parseChannels(new URLSearchParams("channel=a&channel=b"), 1)).toThrow(
      /too many channels/,
    );
  });
});
