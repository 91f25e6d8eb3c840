import { describe, expect, it } from "vitest";
import { withRewind } from "@/components/use-event-source";

describe("withRewind", () => {
  it("adds rewind=N to relative and absolute stream URLs, and nothing for 0", () => {
    expect(withRewind("/stream?channel=chat", 10)).toBe("/stream?channel=chat&rewind=10");
    expect(withRewind("https://rt.example/stream", 5)).toBe("https://rt.example/stream?rewind=5");
    expect(withRewind("/stream", 0)).toBe("/stream");
    expect(withRewind("/stream", undefined)).toBe("/stream");
  });
});
